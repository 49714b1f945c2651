"""Opening psycopg connections with the project's timeouts, and mapping connection faults.

All runtime SQL goes through connections made here, so every session has the
same ``lock_timeout``, ``statement_timeout`` and ``application_name``, and none
goes through a transaction-mode pooler (``voice_migration.infra.pooling``).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from voice_migration.infra.errors import ConnectionFailed
from voice_migration.infra.pooling import refuse_transaction_pooler_url, require_one_session
from voice_migration.infra.secrets import scrub
from voice_migration.infra.settings import Settings, libpq_url

APPLICATION_NAME = "voice-migration"


def connect(
    settings: Settings, *, autocommit: bool = False, session: bool = True
) -> psycopg.Connection[tuple[object, ...]]:
    """Open a connection with the configured timeouts; raise :class:`ConnectionFailed` on failure.

    ``session=True`` (every command): a transaction-mode pooler is refused (exit 2), by its URL or by
    probing the session. ``session=False`` is for a caller that keeps nothing in the session between
    transactions (the flag cache with ``listen=False``, made for such poolers).
    """
    url = libpq_url(settings.database_url)
    if session:
        refuse_transaction_pooler_url(url, settings.redacted_url)
    try:
        conn = psycopg.connect(
            url,
            connect_timeout=settings.connect_timeout,
            application_name=APPLICATION_NAME,
            autocommit=autocommit,
        )
    except psycopg.Error as exc:
        reason = scrub(" ".join(str(exc).split()) or type(exc).__name__, urls=[settings.database_url])
        raise ConnectionFailed(
            f"cannot connect to {settings.redacted_url}: {reason}; "
            "check DATABASE_URL and that the server is running and reachable"
        ) from exc
    try:
        if session:
            require_one_session(conn, settings.redacted_url)
        apply_timeouts(conn, settings)
    except BaseException:
        conn.close()
        raise
    return conn


def apply_timeouts(conn: psycopg.Connection[tuple[object, ...]], settings: Settings) -> None:
    """Set the session's lock and statement timeouts (session-level, survives transactions)."""
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SET lock_timeout = {}; SET statement_timeout = {}").format(
                sql.Literal(settings.lock_timeout), sql.Literal(settings.statement_timeout)
            )
        )
    if not conn.autocommit:
        conn.commit()
