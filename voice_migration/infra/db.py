"""Opening psycopg connections with the project's timeouts, and mapping connection faults.

All runtime SQL goes through connections made here, so every session has the
same ``lock_timeout``, ``statement_timeout`` and ``application_name``.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from voice_migration.infra.errors import ConnectionFailed
from voice_migration.infra.secrets import scrub
from voice_migration.infra.settings import Settings, libpq_url

APPLICATION_NAME = "voice-migration"


def connect(settings: Settings, *, autocommit: bool = False) -> psycopg.Connection[tuple[object, ...]]:
    """Open a connection with the configured timeouts; raise :class:`ConnectionFailed` on failure."""
    try:
        conn = psycopg.connect(
            libpq_url(settings.database_url),
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
    apply_timeouts(conn, settings)
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
