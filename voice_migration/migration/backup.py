"""Backups inside the database: set-based copies in the ``voice_migration`` schema, with a manifest.

A backup copies the tenants, configs and calls in its tenant scope (every column, at
whatever revision the database is: v1 or v2) and ``voice_agent_metrics`` when it
exists, into ``voice_migration.<backup_id>_<table>``, and records a manifest row in
``voice_migration.backups`` with the Alembic revision, the scope, row counts,
checksums and size. The copy runs in one REPEATABLE READ transaction, so the tables
are one consistent snapshot while applications keep writing.

SQL lives in ``sql/backup/``; the checksum is defined in ``sql/backup/manifest.sql``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.infra.resources import read_sql
from voice_migration.migration.revisions import current_revision
from voice_migration.migration.scope import describe_scope, require_known_tenants, set_scope

Conn = psycopg.Connection[tuple[object, ...]]

SCHEMA = "voice_migration"
BACKUP_ID_PATTERN = re.compile(r"backup_[0-9]{8}_[0-9]{6}(_[0-9]{1,4})?")
_ID_ATTEMPTS = 5  # a concurrent `backups create` in the same second takes the next suffix


@dataclass(frozen=True)
class BackedUpTable:
    """One live table a backup copies: its short name, its key and the column that scopes it by tenant."""

    name: str
    source: str
    key: str
    scope_column: str
    optional: bool = False

    def backup_table(self, backup_id: str) -> str:
        """The name of this table's copy in a backup (in schema ``voice_migration``)."""
        return f"{backup_id}_{self.name}"


# Parents first: a restore writes in this order.
TABLES: tuple[BackedUpTable, ...] = (
    BackedUpTable("tenants", "tenants", "id", "id"),
    BackedUpTable("configs", "voice_agent_configs", "id", "tenant_id"),
    BackedUpTable("calls", "voice_agent_calls", "id", "tenant_id"),
    BackedUpTable("metrics", "voice_agent_metrics", "config_id", "tenant_id", optional=True),
)


@dataclass(frozen=True)
class BackupInfo:
    """A manifest row: what a backup holds."""

    backup_id: str
    created_at: datetime
    kind: str
    alembic_revision: str | None
    tenant_ids: tuple[str, ...] | None
    tenants_count: int
    configs_count: int
    calls_count: int
    metrics_count: int | None
    checksums: Mapping[str, str]
    size_bytes: int
    age: timedelta

    @property
    def scope(self) -> str:
        """``all tenants`` or the tenant list, shortened."""
        return describe_scope(self.tenant_ids)

    def tables(self) -> tuple[BackedUpTable, ...]:
        """The tables this backup holds a copy of."""
        return tuple(t for t in TABLES if t.name in self.checksums)

    def as_dict(self) -> dict[str, object]:
        """The manifest row as JSON (``backups list --format json``, ``status``; docs/schemas/)."""
        return {
            "backup_id": self.backup_id,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "kind": self.kind,
            "alembic_revision": self.alembic_revision,
            "tenant_ids": None if self.tenant_ids is None else list(self.tenant_ids),
            "tenants_count": self.tenants_count,
            "configs_count": self.configs_count,
            "calls_count": self.calls_count,
            "metrics_count": self.metrics_count,
            "size_bytes": self.size_bytes,
            "age_seconds": round(self.age.total_seconds(), 3),
        }


def validate_backup_id(backup_id: str) -> str:
    """Return ``backup_id`` if it has the form ``backup_YYYYMMDD_HHMMSS[_N]``; else raise :class:`UsageError`.

    Called before any SQL, so a hostile id never reaches the database.
    """
    if not BACKUP_ID_PATTERN.fullmatch(backup_id):
        raise UsageError(
            f"{backup_id[:80]!a} is not a backup id: ids look like backup_20240115_143022 "
            "(optionally _2, _3...); run `voice-migration backups list` to see them"
        )
    return backup_id


def ensure_manifest(conn: Conn) -> None:
    """Create the ``voice_migration`` schema and the manifest table when missing (idempotent).

    Only when missing: ``CREATE SCHEMA IF NOT EXISTS`` needs CREATE on the database even when the
    schema exists, which the least-privilege operator role (``sql/security/operator_role.sql``) lacks.
    """
    row = conn.execute("SELECT to_regclass('voice_migration.backups') IS NOT NULL").fetchone()
    if row and row[0]:
        return
    conn.execute(read_sql("backup/manifest.sql").encode())


def canonical_text(conn: Conn) -> None:
    """Fix, for this transaction, the settings that change a row's text (so checksums are stable)."""
    conn.execute(
        "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; "
        "SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1"
    )


def table_exists(conn: Conn, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists."""
    return bool(columns_of(conn, schema, table))


@dataclass(frozen=True)
class Column:
    """A writable column of a table (from ``sql/backup/columns.sql``)."""

    name: str
    not_null: bool
    has_default: bool
    type: str


def columns_of(conn: Conn, schema: str, table: str) -> tuple[Column, ...]:
    """The writable columns of ``schema.table`` in table order; empty when the table does not exist."""
    rows = conn.execute(read_sql("backup/columns.sql"), {"schema": schema, "table": table}).fetchall()
    return tuple(
        Column(str(name), bool(not_null), bool(has_default), str(type_name))
        for name, not_null, has_default, type_name in rows
    )


def checksum(
    conn: Conn,
    table: sql.Composable,
    columns: Sequence[str] | None,
    key: str = "id",
    keys_from: sql.Identifier | None = None,
    rows: sql.Composable | None = None,
) -> tuple[int, str]:
    """Row count and checksum of ``table``'s ``columns`` (None: every column): every row, or those whose
    ``key`` is in ``keys_from``. The project's one table checksum (``sql/backup/checksum.sql``): order-free,
    streaming (no string of all rows), so it works at any size.

    ``rows`` is a WITH clause defining ``table`` (the backup's copy: its INSERT ... RETURNING).
    The text of a row depends on TimeZone, DateStyle and float settings: compare checksums taken
    under the same settings (:func:`canonical_text`).
    """
    key_filter = (
        sql.SQL("")
        if keys_from is None
        else sql.SQL("WHERE EXISTS (SELECT FROM {keys_from} AS k WHERE k.{key} = t.{key})").format(
            keys_from=keys_from, key=sql.Identifier(key)
        )
    )
    query = sql.SQL(read_sql("backup/checksum.sql")).format(
        rows=rows if rows is not None else sql.SQL(""),
        table=table,
        key_filter=key_filter,
        columns=sql.SQL("t.*") if columns is None else sql.SQL(", ").join(sql.Identifier("t", c) for c in columns),
    )
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])  # type: ignore[call-overload]


def create_backup(conn: Conn, tenant_ids: Sequence[str] | None = None, *, kind: str = "manual") -> BackupInfo:
    """Back up the tenants in ``tenant_ids`` (``None``: all) and commit; return the manifest row.

    Works on a v1 database too (it creates the ``voice_migration`` schema and the
    manifest when missing). Unknown tenant ids raise :class:`UsageError`. Inside a
    caller's open transaction it runs in a savepoint and leaves the commit to the caller.
    """
    outer = conn.info.transaction_status == TransactionStatus.IDLE
    for attempt in range(1, _ID_ATTEMPTS + 1):
        try:
            with conn.transaction():
                if outer:
                    # One snapshot for every table, without blocking writers.
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return backup_in_transaction(conn, tenant_ids, kind=kind)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
            # Another backup took this id between our look-up and our insert.
            if not outer or attempt == _ID_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def backup_in_transaction(
    conn: Conn, tenant_ids: Sequence[str] | None, *, kind: str, note: str | None = None
) -> BackupInfo:
    """Make a backup inside the caller's transaction (no commit); used by :func:`create_backup` and restore."""
    if not table_exists(conn, "public", "tenants"):
        raise OperationRefused(
            "there is no tenants table: this is not a voice-agent database; "
            "check DATABASE_URL, or create the v1 schema with `alembic upgrade 0001_v1_baseline`"
        )
    require_known_tenants(conn, tenant_ids)
    canonical_text(conn)
    ensure_manifest(conn)
    set_scope(conn, tenant_ids)
    id_row = conn.execute(read_sql("backup/next_backup_id.sql")).fetchone()
    if id_row is None:
        raise OperationRefused("every backup id of this second is taken; wait a second and run this again")
    backup_id = str(id_row[0])
    counts: dict[str, int] = {}
    checksums: dict[str, str] = {}
    tables: list[str] = []
    for table in TABLES:
        if table.optional and not table_exists(conn, "public", table.source):
            continue
        target = sql.Identifier(SCHEMA, table.backup_table(backup_id))
        source = sql.Identifier("public", table.source)
        conn.execute(sql.SQL(read_sql("backup/copy_table.sql")).format(backup=target, source=source))
        columns = [c.name for c in columns_of(conn, SCHEMA, table.backup_table(backup_id))]
        # One pass: the copy's INSERT returns the rows it wrote and the checksum is taken over them.
        copy_rows = sql.SQL(read_sql("backup/copy_rows.sql")).format(
            backup=target, source=source, scope_column=sql.Identifier(table.scope_column)
        )
        counts[table.name], checksums[table.name] = checksum(
            conn, sql.Identifier("copied"), columns, table.key, rows=copy_rows
        )
        conn.execute(sql.SQL(read_sql("backup/copy_keys.sql")).format(backup=target, key=sql.Identifier(table.key)))
        tables.append(f"{SCHEMA}.{table.backup_table(backup_id)}")
    row = conn.execute(
        read_sql("backup/record_manifest.sql"),
        {
            "backup_id": backup_id,
            "kind": kind,
            "alembic_revision": current_revision(conn),
            "tenant_ids": None if tenant_ids is None else list(tenant_ids),
            "tenants_count": counts["tenants"],
            "configs_count": counts["configs"],
            "calls_count": counts["calls"],
            "metrics_count": counts.get("metrics"),
            "checksums": json.dumps(checksums),
            "tables": tables,
            "note": note,
        },
    ).fetchone()
    assert row is not None
    return get_backup(conn, backup_id)


def _info(row: Sequence[object]) -> BackupInfo:
    (backup_id, created_at, kind, revision, tenant_ids, tenants, configs, calls, metrics, sums, size, age) = row
    assert isinstance(created_at, datetime) and isinstance(age, timedelta)
    return BackupInfo(
        backup_id=str(backup_id),
        created_at=created_at,
        kind=str(kind),
        alembic_revision=None if revision is None else str(revision),
        tenant_ids=None if tenant_ids is None else tuple(str(t) for t in tenant_ids),  # type: ignore[attr-defined]
        tenants_count=int(tenants),  # type: ignore[call-overload]
        configs_count=int(configs),  # type: ignore[call-overload]
        calls_count=int(calls),  # type: ignore[call-overload]
        metrics_count=None if metrics is None else int(metrics),  # type: ignore[call-overload]
        checksums=json.loads(str(sums)),
        size_bytes=int(size),  # type: ignore[call-overload]
        age=age,
    )


def list_backups(conn: Conn) -> list[BackupInfo]:
    """Every backup, newest first; empty when the manifest does not exist yet."""
    if not table_exists(conn, SCHEMA, "backups"):
        return []
    return [_info(row) for row in conn.execute(read_sql("backup/list.sql")).fetchall()]


def get_backup(conn: Conn, backup_id: str) -> BackupInfo:
    """The manifest row of ``backup_id``; :class:`UsageError` when there is none."""
    validate_backup_id(backup_id)
    for info in list_backups(conn):
        if info.backup_id == backup_id:
            return info
    raise UsageError(f"there is no backup {backup_id}: run `voice-migration backups list` to see the backups")


@dataclass(frozen=True)
class DropResult:
    """What ``drop_backup`` removed."""

    backup_id: str
    size_bytes: int


def drop_backup(conn: Conn, backup_id: str, *, force: bool = False) -> DropResult:
    """Drop a backup's tables and manifest row in one transaction, and commit.

    The newest backup is the one a data rollback would use: dropping it needs ``force``.
    """
    validate_backup_id(backup_id)
    with conn.transaction():
        backups = list_backups(conn)
        info = get_backup(conn, backup_id)
        if backups[0].backup_id == backup_id and not force:
            raise OperationRefused(
                f"{backup_id} is the newest backup, the one a data rollback would use; "
                "take a newer backup first (`voice-migration backups create`) or pass --force"
            )
        for table in TABLES:
            conn.execute(
                sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, table.backup_table(backup_id)))
            )
        conn.execute(read_sql("backup/drop_backup.sql"), {"backup_id": backup_id})
    return DropResult(backup_id, info.size_bytes)
