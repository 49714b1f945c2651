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
backup are kept and reported; with ``delete_newer`` they are deleted instead (they are
in the safety backup, taken first).

Restore and flags agree (issue #15): a backup that holds configs not in v2 shape
(taken before the migration, or with quarantined configs) is refused while v2 serves
a tenant those configs belong to — v2 would read configs it cannot read (one line:
how many tenants, what to do). ``with_total_rollback`` first turns the master switch
off (audited as ``rollback_total`` with the restore's reason, notified; committed
before the restore starts, so it stays off if the restore then fails), then restores.
Every result lists the tenants of the scope v2 was serving when the restore began.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from psycopg import sql

from voice_migration.infra.errors import CheckFailed, OperationRefused
from voice_migration.infra.events import emit
from voice_migration.infra.locks import exclusive_operation, retry_on_lock_timeout
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
    deleted: int = 0


@dataclass(frozen=True)
class FlagsAtRestore:
    """What v2 was serving in a backup's scope, and what the backup would put in v1 shape."""

    tenants_on_v2: tuple[str, ...] = ()
    harmed: tuple[str, ...] = ()
    v1_shape_configs: int = 0
    master_on: bool = False

    def refusal(self, backup_id: str) -> str | None:
        """The one-line refusal when the restore would hand v2 configs in v1 shape (``None``: safe)."""
        if not self.harmed:
            return None
        first = ", ".join(self.harmed[:5]) + (f" and {len(self.harmed) - 5:,} more" if len(self.harmed) > 5 else "")
        return (
            f"not restoring {backup_id}: it puts {self.v1_shape_configs:,} configs back in v1 shape while v2 "
            f"serves {len(self.harmed):,} of their tenants ({first}), and v2 cannot read v1 configs; nothing was "
            "changed; add --with-total-rollback to turn v2 off for everyone first (audited), or run "
            "`voice-migration rollback --level total --reason ...` and restore again"
        )


@dataclass(frozen=True)
class RestorePlan:
    """What restoring ``backup`` would do now."""

    backup: BackupInfo
    tables: tuple[TableRestore, ...]
    skipped_tables: tuple[str, ...]
    flags: FlagsAtRestore = FlagsAtRestore()

    @property
    def newer_total(self) -> int:
        """Rows created after the backup, in its scope: kept by the restore (deleted with ``delete_newer``)."""
        return sum(t.newer for t in self.tables)


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did; ``safety_backup_id`` undoes it."""

    backup_id: str
    safety_backup_id: str
    tables: tuple[TableRestore, ...]
    skipped_tables: tuple[str, ...]
    seconds: float
    tenants_on_v2: tuple[str, ...] = ()
    total_rollback: bool = False
    delete_newer: bool = False

    @property
    def newer_total(self) -> int:
        """Rows created after the backup (kept, or deleted with ``delete_newer``)."""
        return sum(t.newer for t in self.tables)

    @property
    def deleted_total(self) -> int:
        """Rows created after the backup that ``delete_newer`` deleted (they are in the safety backup)."""
        return sum(t.deleted for t in self.tables)


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


def flags_at_restore(conn: Conn, backup: BackupInfo) -> FlagsAtRestore:
    """Tenants of ``backup``'s scope on v2 now, and those the restore would hand v1-shape configs.

    Empty on a database without the flags (before revision 0002) or a backup without configs.
    """
    row = conn.execute(
        "SELECT to_regproc('public.voice_agent_v2_enabled') IS NOT NULL, "
        "to_regclass('public.voice_agent_v2_flags') IS NOT NULL"
    ).fetchone()
    configs = next((t for t in backup.tables() if t.name == "configs"), None)
    if not (row and row[0] and row[1]) or configs is None:
        return FlagsAtRestore()
    set_scope(conn, backup.tenant_ids)
    query = sql.SQL(read_sql("backup/restore_v2_tenants.sql")).format(
        backup_configs=sql.Identifier(SCHEMA, configs.backup_table(backup.backup_id))
    )
    found = conn.execute(query).fetchone()
    master = conn.execute("SELECT coalesce(bool_or(enabled), false) FROM public.voice_agent_v2_flags").fetchone()
    assert found is not None and master is not None
    on_v2, harmed, v1_shape = found
    return FlagsAtRestore(
        tenants_on_v2=tuple(str(t) for t in on_v2),  # type: ignore[attr-defined]
        harmed=tuple(str(t) for t in harmed),  # type: ignore[attr-defined]
        v1_shape_configs=int(v1_shape),  # type: ignore[call-overload]
        master_on=bool(master[0]),
    )


def plan_restore(conn: Conn, backup_id: str) -> RestorePlan:
    """What restoring ``backup_id`` would change now (read-only): shown to the operator before asking."""
    validate_backup_id(backup_id)
    with conn.transaction():
        canonical_text(conn)
        backup = get_backup(conn, backup_id)
        tables, skipped = _plan_tables(conn, backup)
        at_restore = flags_at_restore(conn, backup)
    return RestorePlan(backup, tables, skipped, at_restore)


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


def _delete_newer(conn: Conn, backup: BackupInfo, present: Sequence[BackedUpTable]) -> dict[str, int]:
    # Children first (the reverse of the restore's parents-first order), triggers off like the restore's
    # writes (the held set is recomputed after); the safety backup already holds these rows.
    deleted: dict[str, int] = {}
    for table in reversed(present):
        cols = _columns(conn, table, backup.backup_id)
        live = sql.Identifier("public", table.source)
        triggers = _has_user_triggers(conn, table.source)
        if triggers:
            conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(live))
        deleted[table.source] = conn.execute(_template("restore_delete_newer", table, backup.backup_id, cols)).rowcount
        if triggers:
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(live))
    return deleted


def _restore_once(
    conn: Conn, backup_id: str, *, delete_newer: bool, on_v2_before: tuple[str, ...] | None
) -> RestoreResult:
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
        # Checked under the lock, in the restore's own transaction: a flag change since the plan counts.
        at_restore = flags_at_restore(conn, backup)
        refusal = at_restore.refusal(backup_id)
        if refusal:
            raise OperationRefused(refusal)
        safety = backup_in_transaction(
            conn, backup.tenant_ids, kind="safety", note=f"state before restoring {backup_id}"
        )
        tables, skipped = _plan_tables(conn, backup)
        if delete_newer:
            deleted = _delete_newer(conn, backup, present)
            tables = tuple(replace(t, deleted=deleted.get(t.table, 0)) for t in tables)
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
    return RestoreResult(
        backup_id,
        safety.backup_id,
        tables,
        skipped,
        time.perf_counter() - started,
        tenants_on_v2=at_restore.tenants_on_v2 if on_v2_before is None else on_v2_before,
        total_rollback=on_v2_before is not None,
        delete_newer=delete_newer,
    )


def _total_rollback_first(conn: Conn, backup_id: str, by: str, reason: str | None) -> tuple[str, ...]:
    """Turn the master switch off (audited, notified) before the restore; the tenants v2 served until then."""
    from voice_migration.rollout.changes import rollback_total  # the rollout layer sits above this module

    with conn.transaction():
        canonical_text(conn)
        at_restore = flags_at_restore(conn, get_backup(conn, backup_id))
    if at_restore.master_on:
        rollback_total(conn, reason or f"data restore of {backup_id} (rollback --level data --with-total-rollback)", by)
    return at_restore.tenants_on_v2


def restore_backup(
    conn: Conn,
    backup_id: str,
    *,
    with_total_rollback: bool = False,
    delete_newer: bool = False,
    by: str = "voice-migration",
    reason: str | None = None,
) -> RestoreResult:
    """Restore ``backup_id`` in one transaction (see the module docstring), commit, and announce it.

    Refuses a malformed id before any SQL, and refuses to run while a migrate or
    another restore holds the operation lock. Raises :class:`CheckFailed` (nothing
    changed) when the backup is damaged or the restored rows do not verify, and
    :class:`OperationRefused` (nothing changed) when the backup would hand v2 tenants
    configs in v1 shape. ``with_total_rollback``: turn v2 off first (``by`` and
    ``reason`` go to the audit). ``delete_newer``: delete the rows created after the
    backup (kept in the safety backup).
    """
    validate_backup_id(backup_id)
    try:
        with exclusive_operation(conn, "the data restore"):
            on_v2_before = _total_rollback_first(conn, backup_id, by, reason) if with_total_rollback else None
            result = retry_on_lock_timeout(
                lambda: _restore_once(conn, backup_id, delete_newer=delete_newer, on_v2_before=on_v2_before),
                what="the data restore",
            )
    except OperationRefused:
        raise  # nothing was attempted: a refusal is not a failed restore
    except Exception as exc:
        emit("rollback_data_failed", f"data restore of {backup_id} failed; nothing changed", {"error": str(exc)})
        raise
    emit(
        "rollback_data",
        f"restored {backup_id}",
        {
            "safety_backup": result.safety_backup_id,
            "rows_changed": sum(t.changed for t in result.tables),
            "rows_reinserted": sum(t.reinserted for t in result.tables),
            "rows_created_after_backup_kept": result.newer_total - result.deleted_total,
            "rows_created_after_backup_deleted": result.deleted_total,
            "tenants_on_v2_at_restore": len(result.tenants_on_v2),
            "tenants_on_v2_first": ", ".join(result.tenants_on_v2[:20]),
            "master_switch_turned_off_first": result.total_rollback,
        },
    )
    return result
