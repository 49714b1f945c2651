"""Data rollback: put the rows in a backup's scope back to their backed-up values (``rollback --level data``).

One transaction does it all, or nothing:

1. lock the live tables against writers (``SHARE ROW EXCLUSIVE``: reads go on), retrying
   on lock timeouts;
2. check the backup against its manifest checksums (a damaged backup is refused);
3. take a safety backup of the current state of the same scope (kind ``safety``), so the
   restore itself can be undone with another restore;
4. per table, parents first, with the table's user triggers disabled (the dual-write
   triggers must not recompute what is being restored): update the rows that differ,
   insert again the rows deleted since the backup;
5. verify: the checksum of the restored live rows equals the backup's.

Columns: those both the backup and today's table have are restored. A column the
backup lacks (a v2 column, when the backup was taken at v1) is reset to NULL — what
the row held before the column existed — when it is nullable and has no default;
otherwise it is left as it is. A backup column that today's table lacks (after an
``alembic downgrade``) cannot be restored and is reported. Rows created after the
backup are kept, never deleted, and reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from voice_migration.infra.errors import CheckFailed
from voice_migration.infra.locks import exclusive_operation, retry_on_lock_timeout
from voice_migration.infra.notify import send_notification
from voice_migration.infra.resources import read_sql
from voice_migration.migration.backup import (
    SCHEMA,
    BackedUpTable,
    BackupInfo,
    Conn,
    backup_in_transaction,
    canonical_text,
    checksum,
    columns_of,
    get_backup,
    table_exists,
    validate_backup_id,
)
from voice_migration.migration.scope import set_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableRestore:
    """What a restore does (or did) to one table."""

    table: str
    changed: int
    reinserted: int
    newer: int
    newer_sample: tuple[str, ...]
    columns_reset: tuple[str, ...]
    columns_not_restored: tuple[str, ...]


@dataclass(frozen=True)
class RestorePlan:
    """What restoring ``backup`` would do now."""

    backup: BackupInfo
    tables: tuple[TableRestore, ...]
    skipped_tables: tuple[str, ...]

    @property
    def newer_total(self) -> int:
        """Rows created after the backup, in its scope: kept by the restore."""
        return sum(t.newer for t in self.tables)


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did; ``safety_backup_id`` undoes it."""

    backup_id: str
    safety_backup_id: str
    tables: tuple[TableRestore, ...]
    skipped_tables: tuple[str, ...]
    seconds: float

    @property
    def newer_total(self) -> int:
        """Rows created after the backup, kept."""
        return sum(t.newer for t in self.tables)


@dataclass(frozen=True)
class _Columns:
    common: tuple[str, ...]
    reset: tuple[str, ...]
    not_restored: tuple[str, ...]


def _columns(conn: Conn, table: BackedUpTable, backup_id: str) -> _Columns:
    live = columns_of(conn, "public", table.source)
    backed = {c.name for c in columns_of(conn, SCHEMA, table.backup_table(backup_id))}
    live_names = {c.name for c in live}
    return _Columns(
        common=tuple(c.name for c in live if c.name in backed),
        reset=tuple(c.name for c in live if c.name not in backed and not c.not_null and not c.has_default),
        not_restored=tuple(sorted(backed - live_names)),
    )


def _template(name: str, table: BackedUpTable, backup_id: str, cols: _Columns) -> sql.Composed:
    def listed(alias: str) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(alias, c) for c in cols.common)

    assignments = [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Identifier("b", c)) for c in cols.common]
    assignments += [sql.SQL("{} = NULL").format(sql.Identifier(c)) for c in cols.reset]
    reset_dirty = (
        sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier("l", c)) for c in cols.reset)
        if cols.reset
        else sql.SQL("false")
    )
    return sql.SQL(read_sql(f"backup/{name}.sql")).format(
        live=sql.Identifier("public", table.source),
        backup=sql.Identifier(SCHEMA, table.backup_table(backup_id)),
        key=sql.Identifier(table.key),
        scope_column=sql.Identifier(table.scope_column),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in cols.common),
        live_cols=listed("l"),
        backup_cols=listed("b"),
        assignments=sql.SQL(", ").join(assignments),
        reset_dirty=reset_dirty,
    )


def _plan_tables(conn: Conn, backup: BackupInfo) -> tuple[tuple[TableRestore, ...], tuple[str, ...]]:
    set_scope(conn, backup.tenant_ids)
    plans: list[TableRestore] = []
    skipped: list[str] = []
    for table in backup.tables():
        if not table_exists(conn, "public", table.source):
            skipped.append(table.source)
            continue
        cols = _columns(conn, table, backup.backup_id)
        changed_row = conn.execute(_template("restore_changed", table, backup.backup_id, cols)).fetchone()
        newer_row = conn.execute(_template("restore_newer", table, backup.backup_id, cols)).fetchone()
        assert changed_row is not None and newer_row is not None
        plans.append(
            TableRestore(
                table=table.source,
                changed=int(changed_row[0]),  # type: ignore[call-overload]
                reinserted=int(changed_row[1]),  # type: ignore[call-overload]
                newer=int(newer_row[0]),  # type: ignore[call-overload]
                newer_sample=tuple(str(k) for k in (newer_row[1] or [])),  # type: ignore[attr-defined]
                columns_reset=cols.reset,
                columns_not_restored=cols.not_restored,
            )
        )
    return tuple(plans), tuple(skipped)


def plan_restore(conn: Conn, backup_id: str) -> RestorePlan:
    """What restoring ``backup_id`` would change now (read-only): shown to the operator before asking."""
    validate_backup_id(backup_id)
    with conn.transaction():
        canonical_text(conn)
        backup = get_backup(conn, backup_id)
        tables, skipped = _plan_tables(conn, backup)
    return RestorePlan(backup, tables, skipped)


def _verify_backup_intact(conn: Conn, backup: BackupInfo) -> None:
    for table in backup.tables():
        target = sql.Identifier(SCHEMA, table.backup_table(backup.backup_id))
        columns = [c.name for c in columns_of(conn, SCHEMA, table.backup_table(backup.backup_id))]
        if not columns:
            raise CheckFailed(
                f"backup {backup.backup_id} is damaged: its table {table.backup_table(backup.backup_id)} is missing; "
                "choose another backup (`voice-migration backups list`)"
            )
        _, actual = checksum(conn, target, columns, table.key)
        if actual != backup.checksums[table.name]:
            raise CheckFailed(
                f"backup {backup.backup_id} is damaged: the checksum of its {table.name} copy differs from the "
                "manifest; nothing was restored; choose another backup (`voice-migration backups list`)"
            )


def _verify_restored(conn: Conn, backup: BackupInfo, tables: Sequence[BackedUpTable]) -> None:
    for table in tables:
        cols = _columns(conn, table, backup.backup_id)
        target = sql.Identifier(SCHEMA, table.backup_table(backup.backup_id))
        expected = checksum(conn, target, cols.common, table.key)
        actual = checksum(conn, sql.Identifier("public", table.source), cols.common, table.key, target)
        if actual != expected:
            raise CheckFailed(
                f"restoring {backup.backup_id} did not reproduce {table.source} (checksum or row count differs "
                f"after the restore: {actual[0]} rows vs {expected[0]}); the transaction was rolled back, nothing "
                "changed; run `voice-migration validate` and report this line"
            )


def _has_user_triggers(conn: Conn, table: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal)",
        (f"public.{table}",),
    ).fetchone()
    return bool(row and row[0])


def _refresh_held_tenants(conn: Conn, backup: BackupInfo) -> None:
    # The configs were written with their triggers off, the held-set triggers too: recompute the set
    # for the restored scope (revision 0008_quarantine_hold on), so restored v1-shape configs hold their
    # tenants on v1 at once.
    row = conn.execute("SELECT to_regproc('voice_migration.refresh_held_tenants') IS NOT NULL").fetchone()
    if row and row[0]:
        tenants = None if backup.tenant_ids is None else list(backup.tenant_ids)
        conn.execute("SELECT voice_migration.refresh_held_tenants(%s::text[])", (tenants,))


def _restore_once(conn: Conn, backup_id: str) -> RestoreResult:
    started = time.perf_counter()
    with conn.transaction():
        canonical_text(conn)
        backup = get_backup(conn, backup_id)
        # tenants is always backed up and always exists (backup_in_transaction refuses otherwise).
        present = [t for t in backup.tables() if table_exists(conn, "public", t.source)]
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier("public", t.source) for t in present)
            )
        )
        _verify_backup_intact(conn, backup)
        safety = backup_in_transaction(
            conn, backup.tenant_ids, kind="safety", note=f"state before restoring {backup_id}"
        )
        tables, skipped = _plan_tables(conn, backup)
        for table in present:
            cols = _columns(conn, table, backup_id)
            live = sql.Identifier("public", table.source)
            triggers = _has_user_triggers(conn, table.source)
            if triggers:
                conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(live))
            conn.execute(_template("restore_update", table, backup_id, cols))
            conn.execute(_template("restore_insert", table, backup_id, cols))
            if triggers:
                conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(live))
            log.debug("restored %s from %s", table.source, backup_id)
        _refresh_held_tenants(conn, backup)
        _verify_restored(conn, backup, present)
    return RestoreResult(backup_id, safety.backup_id, tables, skipped, time.perf_counter() - started)


def restore_backup(conn: Conn, backup_id: str) -> RestoreResult:
    """Restore ``backup_id`` in one transaction (see the module docstring), commit, and notify.

    Refuses a malformed id before any SQL, and refuses to run while a migrate or
    another restore holds the operation lock. Raises :class:`CheckFailed` (nothing
    changed) when the backup is damaged or the restored rows do not verify.
    """
    validate_backup_id(backup_id)
    try:
        with exclusive_operation(conn, "the data restore"):
            result = retry_on_lock_timeout(lambda: _restore_once(conn, backup_id), what="the data restore")
    except Exception as exc:
        send_notification(
            "rollback_data_failed", f"data restore of {backup_id} failed; nothing changed", {"error": str(exc)}
        )
        raise
    send_notification(
        "rollback_data",
        f"restored {backup_id}",
        {
            "safety_backup": result.safety_backup_id,
            "rows_changed": sum(t.changed for t in result.tables),
            "rows_reinserted": sum(t.reinserted for t in result.tables),
            "rows_created_after_backup_kept": result.newer_total,
        },
    )
    return result
