"""Test helpers shared by the suite: fresh databases, the CLI in a subprocess, row checksums.

Test infrastructure lives here and in ``conftest.py`` only (STYLE.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import conninfo, sql
from pytest_postgresql.janitor import DatabaseJanitor

from voice_migration.infra.settings import load_settings
from voice_migration.migration.backup import checksum
from voice_migration.migration.revisions import upgrade

V1_COLUMNS: dict[str, tuple[str, ...]] = {
    "tenants": ("id", "name", "created_at"),
    "voice_agent_configs": (
        "id",
        "tenant_id",
        "name",
        "prompt",
        "voice_id",
        "language",
        "enabled",
        "created_at",
        "updated_at",
    ),
    "voice_agent_calls": (
        "id",
        "tenant_id",
        "config_id",
        "direction",
        "status",
        "ended_reason",
        "duration_seconds",
        "latency_ms",
        "outcome",
        "transcript",
        "version",
        "created_at",
    ),
}


@dataclass(frozen=True)
class Server:
    """Where the test server listens; ``url(dbname)`` gives a psycopg/Alembic URL."""

    host: str
    port: int
    user: str
    password: str | None

    def url(self, dbname: str) -> str:
        """A postgresql:// URL for ``dbname`` on this server."""
        return (
            conninfo.make_conninfo(
                "", host=self.host, port=self.port, user=self.user, password=self.password, dbname=dbname
            )
            if self.host.startswith("/")
            else (
                f"postgresql://{self.user}{':' + self.password if self.password else ''}"
                f"@{self.host}:{self.port}/{dbname}"
            )
        )

    def janitor(self, dbname: str, template: str | None = None, *, as_template: bool = False) -> DatabaseJanitor:
        """A pytest-postgresql janitor that creates ``dbname`` (from ``template``) and drops it."""
        return DatabaseJanitor(
            user=self.user,
            host=self.host,
            port=self.port,
            password=self.password,
            dbname=dbname,
            template_dbname=template,
            as_template=as_template,
        )


def server_from_url(url: str) -> Server:
    """Parse a libpq URL or DSN into a :class:`Server`."""
    params = conninfo.conninfo_to_dict(url)
    return Server(
        host=str(params.get("host") or "127.0.0.1"),
        port=int(params.get("port") or 5432),
        user=str(params.get("user") or "postgres"),
        password=str(params["password"]) if params.get("password") else None,
    )


def make_template(server: Server, name: str, target: str | None) -> None:
    """Create template database ``name`` migrated to Alembic ``target`` (None: empty)."""
    janitor = server.janitor(name)
    janitor.drop()
    janitor.init()
    if target is not None:
        upgrade(load_settings(server.url(name), env={}), target)
    mark_template(server, name)


def mark_template(server: Server, name: str) -> None:
    """Mark database ``name`` as a template, so tests can clone it with CREATE DATABASE ... TEMPLATE."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH is_template true").format(sql.Identifier(name)))


@contextmanager
def fresh_database(server: Server, template: str) -> Iterator[str]:
    """A new database cloned from ``template``; yields its URL and drops it afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    janitor = server.janitor(name, template)
    janitor.init()
    try:
        yield server.url(name)
    finally:
        janitor.drop()


def run_cli(
    args: Sequence[str],
    *,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``voice-migration ARGS`` in a subprocess, as an operator would, and capture its output."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_MIGRATION_")}
    environment.pop("DATABASE_URL", None)
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "voice_migration", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=input_text,
        timeout=timeout,
        check=False,
    )


def table_checksum(
    conn: psycopg.Connection[tuple[object, ...]], table: str, columns: Sequence[str] | None = None
) -> str:
    """Rows and checksum over ``columns`` (default: every column) of every row of ``table``: the project's
    one table checksum (:func:`voice_migration.migration.backup.checksum`)."""
    rows, digest = checksum(conn, sql.Identifier(table), columns)
    return f"{rows} rows {digest}"


def v1_checksums(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """Checksums of every v1 column of every row, per v1 table."""
    return {table: table_checksum(conn, table, cols) for table, cols in V1_COLUMNS.items()}


def database_checksum(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """Checksums of every row of every ordinary table in public and voice_migration (schema included)."""
    tables = conn.execute(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'voice_migration') ORDER BY 1"
    ).fetchall()
    result: dict[str, str] = {}
    for (qualified,) in tables:
        rows, digest = checksum(conn, sql.SQL(str(qualified)), None)
        result[str(qualified)] = f"{rows} rows {digest}"
    columns = conn.execute(
        "SELECT md5(string_agg(table_schema || '.' || table_name || '.' || column_name || ':' || data_type, ','"
        " ORDER BY table_schema, table_name, column_name)) FROM information_schema.columns "
        "WHERE table_schema IN ('public', 'voice_migration')"
    ).fetchone()
    assert columns is not None
    result["<schema>"] = str(columns[0])
    return result


def wait_for_lock_waiters(conn: psycopg.Connection[tuple[object, ...]], count: int, timeout: float = 5.0) -> int:
    """Poll until ``count`` sessions of this database wait for a lock (or ``timeout`` passes); return how many do."""
    deadline = time.monotonic() + timeout
    waiting = 0
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        waiting = int(str(row[0])) if row else 0
        if waiting == count:
            break
        time.sleep(0.01)
    return waiting
