"""Connection settings and timeouts, read from options and the environment (DESIGN.md section 1).

``DATABASE_URL`` (or ``--database-url``) names the database; the password in it is
never printed: use :func:`redact_url` for anything shown to a person.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from voice_migration.infra.errors import ConfigurationError

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


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to print or log).

    Plain string work, no URL parser: a URL malformed enough to be refused (and shown in the refusal)
    must be masked too. The password is what sits between ``user:`` and the last ``@`` before the
    path, and any ``password=`` query parameter (libpq takes both).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if colon:
            authority = f"{user}:***@{host}"
    path, question, query = tail.partition("?")
    if question:
        query = "&".join(
            "password=***" if item.partition("=")[0].lower() == "password" else item for item in query.split("&")
        )
    return f"{scheme}{sep}{authority}{slash}{path}{question}{query}"


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


def load_settings(database_url: str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings from an explicit URL or ``DATABASE_URL``, and the ``VOICE_MIGRATION_*`` timeouts."""
    environ = os.environ if env is None else env
    url = database_url or environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError(
            "no database given: DATABASE_URL is not set; "
            "set it or pass --database-url postgresql://user@host:5432/dbname"
        )
    libpq_url(url)  # validate the scheme early, with a clear message
    connect = environ.get("VOICE_MIGRATION_CONNECT_TIMEOUT", str(DEFAULT_CONNECT_TIMEOUT)).strip()
    if not connect.isdigit() or int(connect) <= 0:
        raise ConfigurationError(
            f"VOICE_MIGRATION_CONNECT_TIMEOUT={connect!r} is not a positive whole number of seconds"
        )
    return Settings(
        database_url=url,
        lock_timeout=validate_duration(
            "VOICE_MIGRATION_LOCK_TIMEOUT", environ.get("VOICE_MIGRATION_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
        ),
        statement_timeout=validate_duration(
            "VOICE_MIGRATION_STATEMENT_TIMEOUT",
            environ.get("VOICE_MIGRATION_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT),
        ),
        connect_timeout=int(connect),
    )
