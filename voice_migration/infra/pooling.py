"""Refusing a transaction-mode pooler: voice-migration needs one database session per connection.

Through a transaction-mode pooler (PgBouncer ``pool_mode = transaction``, Supabase's pooler on port
6543) each transaction may run on another server backend, so what this project keeps in the session is
lost or, worse, left on a backend that serves someone else: the session advisory lock that makes
``migrate``, ``rollback --level data`` and ``rollout watch`` run one at a time, the flag cache's
``LISTEN``, and the session's ``lock_timeout`` / ``statement_timeout``.

Two checks, both before any work (``voice_migration.infra.db.connect`` runs them):

* the URL: a Supabase host (``*.supabase.com`` / ``*.supabase.co``) on port 6543 is the transaction
  pooler by Supabase's convention — refused without connecting;
* the session itself: in one transaction read ``pg_backend_pid()`` and set a session-level setting to
  a random token; in a second transaction read both again. A different backend, or a setting that did
  not survive the commit, is a transaction pooler (or a pooler resetting the session).

The second check is real SQL on the real connection. It can miss a quiet pooler that happens to hand
the same backend back with the setting intact; that is why the URL check exists, and why the README's
Supabase section says which port to use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg

from voice_migration.infra.errors import ConnectionFailed

PROBE_SETTING = "voice_migration.session_probe"
SUPABASE_TRANSACTION_POOLER_PORT = 6543
_SUPABASE_DOMAINS = ("supabase.com", "supabase.co")
_WHAT_TO_DO = "use the direct connection or the session pooler (port 5432) in DATABASE_URL (README, section 'Supabase')"


@dataclass(frozen=True)
class SessionProbe:
    """What two consecutive transactions on one connection saw of their session."""

    first_pid: int
    second_pid: int
    setting_kept: bool

    @property
    def same_session(self) -> bool:
        """True when both transactions ran in one server session that kept its settings."""
        return self.first_pid == self.second_pid and self.setting_kept

    def describe(self) -> str:
        """Why the session is not one, in a few words (empty when it is)."""
        if self.first_pid != self.second_pid:
            return f"two transactions ran on two server backends (pid {self.first_pid}, then {self.second_pid})"
        if not self.setting_kept:
            return "a session-level setting did not survive the commit (the pooler resets the session)"
        return ""


def mark_session(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[int, str]:
    """First transaction: the backend pid, and a random token stored in a session-level setting."""
    token = uuid.uuid4().hex
    with conn.transaction():
        row = conn.execute("SELECT pg_backend_pid(), set_config(%s, %s, false)", (PROBE_SETTING, token)).fetchone()
    assert row is not None
    return int(str(row[0])), token


def read_session(conn: psycopg.Connection[tuple[object, ...]], first_pid: int, token: str) -> SessionProbe:
    """Second transaction: does it see the same backend and the token :func:`mark_session` stored?"""
    with conn.transaction():
        row = conn.execute("SELECT pg_backend_pid(), current_setting(%s, true)", (PROBE_SETTING,)).fetchone()
        # Leave nothing behind on a backend the pooler may give to another client.
        conn.execute("SELECT set_config(%s, '', false)", (PROBE_SETTING,))
    assert row is not None
    return SessionProbe(first_pid, int(str(row[0])), row[1] == token)


def probe_session(conn: psycopg.Connection[tuple[object, ...]]) -> SessionProbe:
    """Run both transactions of the probe on ``conn`` (autocommit or not; it must be idle)."""
    first_pid, token = mark_session(conn)
    return read_session(conn, first_pid, token)


def refuse_transaction_pooler_url(url: str, redacted_url: str) -> None:
    """Raise :class:`ConnectionFailed` for a URL that names Supabase's transaction pooler (port 6543)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return  # not a URL (a libpq key=value string): the session probe still runs
    on_supabase = any(host == d or host.endswith("." + d) for d in _SUPABASE_DOMAINS)
    if on_supabase and port == SUPABASE_TRANSACTION_POOLER_PORT:
        raise ConnectionFailed(
            f"{redacted_url} is Supabase's transaction pooler (port {SUPABASE_TRANSACTION_POOLER_PORT}), which gives "
            f"each transaction another session and breaks voice-migration's advisory lock and LISTEN; {_WHAT_TO_DO}"
        )


def require_one_session(conn: psycopg.Connection[tuple[object, ...]], redacted_url: str) -> None:
    """Raise :class:`ConnectionFailed` unless ``conn`` keeps one server session across transactions."""
    probe = probe_session(conn)
    if not probe.same_session:
        raise ConnectionFailed(
            f"{redacted_url} looks like a transaction-mode pooler: {probe.describe()}, so voice-migration's "
            f"advisory lock, LISTEN and session timeouts would not hold; {_WHAT_TO_DO}"
        )
