"""Settings: every environment variable voice-migration reads, and the connection settings built from them.

This is the only module that reads ``os.environ`` for configuration (the CLI, the library, ``alembic/env.py``
and the revisions all ask :class:`Environment`; ``tests/test_settings.py`` enforces it). Each variable is
listed once in :data:`VARIABLES` with what it does; a bad value is refused with one line naming the
variable and a valid example (:class:`~voice_migration.infra.errors.ConfigurationError`).

``DATABASE_URL`` (or ``--database-url``) names the database; the password in it is never printed:
:func:`voice_migration.infra.secrets.redact_url` masks anything shown to a person.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.secrets import redact_url

DEFAULT_LOCK_TIMEOUT = "2s"
DEFAULT_STATEMENT_TIMEOUT = "0"  # 0 = no limit; batches are small, see backfill
DEFAULT_CONNECT_TIMEOUT = 10

_DURATION = re.compile(r"^\s*\d+\s*(ms|s|min|h)?\s*$")
_SCHEMES = {
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+psycopg2cffi",
    "postgresql+asyncpg",
}


def libpq_url(url: str) -> str:
    """Turn a libpq or SQLAlchemy URL into one psycopg/libpq accepts (``postgresql://``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _SCHEMES:
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} is not a PostgreSQL URL: use postgresql://user:password@host:port/dbname"
        )
    return "postgresql://" + rest


def sqlalchemy_url(url: str) -> str:
    """Turn a libpq or SQLAlchemy URL into a SQLAlchemy URL that uses the psycopg 3 driver."""
    return "postgresql+psycopg://" + libpq_url(url).partition("://")[2]


def validate_duration(name: str, value: str) -> str:
    """Return ``value`` if it is a PostgreSQL duration like ``2s`` or ``500ms``, else raise."""
    if not _DURATION.match(value):
        raise ConfigurationError(
            f"{name}={value!r} is not a duration: use a number with an optional unit, e.g. 2s, 500ms, 1min"
        )
    return value.strip().replace(" ", "")


@dataclass(frozen=True)
class Settings:
    """Where to connect and how long to wait; built by :func:`load_settings`."""

    database_url: str
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT

    @property
    def redacted_url(self) -> str:
        """The database URL with its password masked."""
        return redact_url(self.database_url)


def load_settings(database_url: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an explicit URL or ``DATABASE_URL``, and the ``VOICE_MIGRATION_*`` timeouts."""
    environ = Environment.of(env)
    url = database_url or environ.text("DATABASE_URL")
    if not url:
        raise ConfigurationError(
            "no database given: DATABASE_URL is not set; "
            "set it or pass --database-url postgresql://user@host:5432/dbname"
        )
    libpq_url(url)  # validate the scheme early, with a clear message
    return Settings(
        database_url=url,
        lock_timeout=environ.lock_timeout(),
        statement_timeout=environ.statement_timeout(),
        connect_timeout=environ.connect_timeout(),
    )


#: Every environment variable voice-migration reads, with what it does (README "Configuration" lists them too).
VARIABLES: dict[str, str] = {
    "DATABASE_URL": "the database to work on (postgresql://user:password@host:port/dbname)",
    "VOICE_MIGRATION_LOCK_TIMEOUT": f"how long a statement may wait for a lock (default {DEFAULT_LOCK_TIMEOUT})",
    "VOICE_MIGRATION_STATEMENT_TIMEOUT": "longest single statement (default 0 = no limit)",
    "VOICE_MIGRATION_CONNECT_TIMEOUT": f"seconds to wait for a connection (default {DEFAULT_CONNECT_TIMEOUT})",
    "VOICE_MIGRATION_LOG": "log level: debug, info, warning or error (default info)",
    "VOICE_MIGRATION_FLAG_CACHE_TTL": "seconds the cached flag check trusts its snapshot (default 30)",
    "VOICE_MIGRATION_OPERATOR": "who is recorded as the actor when --by is not given (default: the login name)",
    "VOICE_MIGRATION_ROLLOUT_PLAN": "rollout steps PERCENT[:HOLD],... (default the runbook's plan)",
    "VOICE_MIGRATION_HEALTH_WINDOW": "the advance gate's window (default 24h)",
    "VOICE_MIGRATION_HEALTH_MAX_ERROR_RATE_INCREASE": "allowed v2 error-rate increase in points (default 1.0)",
    "VOICE_MIGRATION_HEALTH_MAX_P95_INCREASE": "allowed v2 p95 latency increase in % (default 10)",
    "VOICE_MIGRATION_HEALTH_MIN_CALLS": "v2 calls the gate needs in its window (default 100)",
    "VOICE_MIGRATION_PG_BINDIR": "where the embedded server's initdb/pg_ctl/postgres are (default: searched)",
    "SLACK_WEBHOOK_URL": "post notifications to this Slack webhook",
    "SMTP_HOST": "send notifications by e-mail through this server (needs MIGRATION_ADMIN_EMAIL)",
    "SMTP_PORT": "the SMTP server's port (default 25)",
    "SMTP_USER": "SMTP login user",
    "SMTP_PASSWORD": "SMTP login password (never printed)",
    "SMTP_FROM": "the notifications' From address (default voice-migration@<host>)",
    "MIGRATION_ADMIN_EMAIL": "who receives e-mail notifications (needs SMTP_HOST)",
}


@dataclass(frozen=True)
class Environment:
    """A view of the environment that answers only for the variables in :data:`VARIABLES`.

    Build it with :meth:`of` (the process environment, or a mapping given by a test or a caller).
    The typed accessors validate their variable when asked, so a bad value for a setting a command
    does not use never stops that command.
    """

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, env: Mapping[str, str] | None = None) -> Environment:
        """The environment ``env`` (default: this process's, read now)."""
        return cls(dict(os.environ if env is None else env))

    def text(self, name: str, default: str = "") -> str:
        """The stripped value of ``name`` (one of :data:`VARIABLES`), or ``default`` when unset or blank."""
        if name not in VARIABLES:
            raise KeyError(f"{name} is not a voice-migration setting; add it to settings.VARIABLES")
        return self.values.get(name, "").strip() or default

    def duration(self, name: str, default: str) -> str:
        """A PostgreSQL duration (``2s``, ``500ms``) from ``name``, else ``default``."""
        return validate_duration(name, self.text(name, default))

    def number(self, name: str, default: str) -> float:
        """A number from ``name``, else ``default``."""
        text = self.text(name, default)
        try:
            return float(text)
        except ValueError:
            raise ConfigurationError(f"{name}={text!r} is not a number; use e.g. {default}") from None

    def positive_number(self, name: str, default: float) -> float:
        """A number > 0 from ``name``, else ``default``."""
        text = self.text(name)
        if not text:
            return default
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not value > 0:
            raise ConfigurationError(f"{name}={text!r} is not a positive number of seconds; use e.g. {default:g}")
        return value

    def lock_timeout(self) -> str:
        """``VOICE_MIGRATION_LOCK_TIMEOUT`` (default 2s)."""
        return self.duration("VOICE_MIGRATION_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)

    def statement_timeout(self) -> str:
        """``VOICE_MIGRATION_STATEMENT_TIMEOUT`` (default no limit)."""
        return self.duration("VOICE_MIGRATION_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT)

    def connect_timeout(self) -> int:
        """``VOICE_MIGRATION_CONNECT_TIMEOUT`` in whole seconds (default 10)."""
        text = self.text("VOICE_MIGRATION_CONNECT_TIMEOUT", str(DEFAULT_CONNECT_TIMEOUT))
        if not text.isdigit() or int(text) <= 0:
            raise ConfigurationError(
                f"VOICE_MIGRATION_CONNECT_TIMEOUT={text!r} is not a positive whole number of seconds; use e.g. 10"
            )
        return int(text)
