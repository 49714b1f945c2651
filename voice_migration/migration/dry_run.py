"""``migrate --dry-run`` without a lock the application waits on: the rehearsal runs on a private copy.

The dry run used to apply revision 0003's ``ALTER TABLE``\\s and the backfill's ``UPDATE``\\s to the
application's tables inside one transaction and roll it back: an ACCESS EXCLUSIVE lock on
``voice_agent_configs`` and ``voice_agent_calls`` for as long as the whole migration, an outage
(issue #14). Now, inside one transaction that is always rolled back:

1. **Copy** (:func:`build_shadow`): in one REPEATABLE READ snapshot, every table the migration reads or
   writes — the application's tables (calls only of the tenant scope) and the ``voice_migration``
   bookkeeping and rule tables that exist — is copied into ``pg_temp`` under the same name, with the
   same indexes. Reading takes ACCESS SHARE, which no INSERT, UPDATE or DELETE waits on; the real
   tables are never written, altered or row-locked.
2. **Install**: on a database below ``0003_v2_expand`` the copies get 0003's v2 columns and tables
   (its own SQL files, run on the copies); then the head version (the highest ``sql/objects/<name>/vN.sql``)
   of every normaliser, catalog, rule set and transform/backfill function is installed in ``pg_temp``,
   rewritten to name the copies (:func:`shadow_sql`).
3. **Rehearse**: the migration's own code (pre-flight checks, the backfill phases batch by batch,
   verification, the quarantine summary, the ``--verbose`` sample) runs on a connection whose cursors
   rewrite every statement to the copies (:class:`ShadowCursor`): ``voice_migration.x`` and
   ``public.<application table>`` become ``pg_temp.x``; unqualified table names resolve to
   ``pg_temp`` first anyway (PostgreSQL searches the temporary schema first for relations).
4. **Roll back**: the transaction ends in ROLLBACK, whatever happens. A killed session's transaction
   is rolled back by PostgreSQL; nothing of the copy survives either way.

What is not rehearsed, and said so in the report: the DDL of the revisions on the application tables
(it needs ACCESS EXCLUSIVE), trigger installation, index builds on the real tables and 0004's
``VALIDATE CONSTRAINT``; revisions after 0003 that only install objects are represented by the head
versions of those objects. The backup is counted, not copied.

Guard: after every step :func:`audit_locks` lists the locks this session holds on tables outside
``pg_temp`` and the system catalogs that are stronger than ACCESS SHARE (a write or a row lock needs
one); there must be none, and the dry run stops and rolls back if there ever is one. The session's
``lock_timeout`` is lowered while rehearsing, so even a bug could not queue behind an application lock.

Cost and side effects an SRE should know: the copy reads the tables once (about the time of a
``pg_dump`` of them) and needs temporary disk for them; the transaction holds ACCESS SHARE locks and a
snapshot until it ends, so a concurrent ``ALTER TABLE`` (which needs ACCESS EXCLUSIVE) waits for the dry
run, and vacuum cannot remove rows deleted meanwhile.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from voice_migration.infra.errors import OperationRefused
from voice_migration.infra.resources import read_sql, sql_dir

Conn = psycopg.Connection[tuple[object, ...]]

APPLICATION_TABLES = ("tenants", "voice_agent_configs", "voice_agent_calls", "voice_agent_metrics")
EXPAND_REVISION = "0003_v2_expand"
# 0003's own SQL that makes the tables a database below it lacks, run on the copies (IF NOT EXISTS
# everywhere, so tables copied from the database are kept); then its v2 columns when missing.
EXPAND_TABLE_FILES = (
    "revisions/0003_v2_expand/10_bookkeeping.sql",
    "revisions/0003_v2_expand/15_backup_manifest.sql",
    "revisions/0003_v2_expand/25_rule_tables.sql",
)
# Below 0002_v2_flags the flag tables (which verification reads) are made on the copy too.
FLAGS_TABLES_FILE = "revisions/0002_v2_flags/20_tables.sql"
EXPAND_COLUMNS_FILE = "revisions/0003_v2_expand/80_v2_columns.sql"
CALLS_INDEX_FILE = "revisions/0003_v2_expand/concurrently/10_calls_index.sql"
# Replaceable objects the migration's phases and checks use, in dependency order; each at its head
# version. Triggers are left out (the backfill's own writes do not fire the dual-write triggers; the
# copies have none), so is the CALL-able procedure (the phases call backfill_step directly).
NORMALISERS = ("fold_text", "fold_keyword", "normalize_key", "sorted_distinct")
CATALOGS = ("capability_catalog", "outcome_catalog", "rules")
TRANSFORMS = (
    "normalize_language",
    "derive_configs",
    "rules_checksum",
    "compile_rules",
    "derive_call_outcomes",
    "call_damage",
    "derive_metrics",
    "backfill_policy",
    "backfill_pause",
    "backfill_halved",
    "backfill_phases",
    "backfill_scope",
    "backfill_step",
    "backfill_pending",
)
# Generated from the (copied) rule tables once the transforms are installed: the compiled rules
# (revision 0009) are functions compile_rules() writes, so the copies get their own, from the copied rows.
COMPILE_RULES = "SELECT pg_temp.compile_rules()"
# While rehearsing, nothing may wait for a lock: the copies are private, so any wait is a bug.
REHEARSAL_LOCK_TIMEOUT = "100ms"

# voice_migration.<name> (plain or quoted), except inside the setting names that carry the tenant
# scope and the backfill marker: current_setting('voice_migration.x'), set_config('voice_migration.x').
_BOOKKEEPING = re.compile(r"""(?<!current_setting\(')(?<!set_config\(')(?:\bvoice_migration|"voice_migration")\.""")
_APPLICATION = re.compile(
    r"""(?:\bpublic|"public")\.("?)(""" + "|".join(APPLICATION_TABLES) + r""")\1(?![A-Za-z0-9_$])"""
)
# 0003's schema statements: the copies live in pg_temp, the real schema is never created or changed.
_SCHEMA_STATEMENT = re.compile(
    r"^\s*(?:CREATE SCHEMA IF NOT EXISTS voice_migration|REVOKE ALL ON SCHEMA voice_migration FROM PUBLIC)\s*;",
    re.IGNORECASE | re.MULTILINE,
)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_SCHEMA_REFERENCE = re.compile(r"\bSCHEMA\s+\"?voice_migration\b", re.IGNORECASE)


def shadow_sql(text: str) -> str:
    """``text`` with every reference to a copied table or installed object pointing at ``pg_temp``.

    Raises :class:`OperationRefused` for a statement on the ``voice_migration`` schema itself: a
    dry run never creates or changes a real schema.
    """
    text = _SCHEMA_STATEMENT.sub("", text)
    if _SCHEMA_REFERENCE.search(_LINE_COMMENT.sub("", text)):
        raise OperationRefused(
            "the dry run refused a statement on schema voice_migration (it only works on private copies); "
            "this is a bug in voice-migration: report it with the command you ran"
        )
    text = _BOOKKEEPING.sub("pg_temp.", text)
    return _APPLICATION.sub(lambda m: f"pg_temp.{m.group(1)}{m.group(2)}{m.group(1)}", text)


def _as_text(query: Any, conn: psycopg.Connection[Any]) -> str:
    if isinstance(query, sql.Composable):
        return query.as_string(conn)
    if isinstance(query, bytes | bytearray | memoryview):
        return bytes(query).decode()
    return str(query)


class ShadowCursor(psycopg.Cursor[Any]):
    """A cursor that runs every statement on the dry run's copies (see :func:`shadow_sql`)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> ShadowCursor:
        """Rewrite ``query`` to the copies, then execute it."""
        text = shadow_sql(_as_text(query, self.connection))
        super().execute(text.encode(), params, prepare=prepare, binary=binary)
        return self

    def executemany(self, query: Any, params_seq: Iterable[Any], *, returning: bool = False) -> None:
        """Rewrite ``query`` to the copies, then execute it for each parameter set."""
        text = shadow_sql(_as_text(query, self.connection))
        super().executemany(text.encode(), params_seq, returning=returning)


def _raw(conn: Conn) -> psycopg.Cursor[Any]:
    """A plain cursor (no rewriting): for the statements that must name the real tables (the copy)."""
    return psycopg.Cursor(conn)


def _object_file(name: str) -> str:
    """``objects/<name>/v<N>.sql`` of the highest N: the version head installs."""
    folder = sql_dir() / "objects" / name
    versions = sorted(int(p.stem[1:]) for p in folder.glob("v*.sql") if p.stem[1:].isdigit())
    if not versions:
        raise OperationRefused(f"sql/objects/{name}/ has no version file; the installation is incomplete")
    return f"objects/{name}/v{versions[-1]}.sql"


def _run_shadow_file(conn: Conn, relative_path: str) -> None:
    _raw(conn).execute(shadow_sql(read_sql(relative_path)).encode())


def _copy_tables(conn: Conn, tenant_ids: Sequence[str] | None) -> list[str]:
    """Copy the tables of ``sql/dry_run/tables.sql`` into pg_temp with their indexes; return their names."""
    tables = _raw(conn).execute(read_sql("dry_run/tables.sql").encode()).fetchall()
    copied: list[str] = []
    for schema, name, scoped in tables:
        source = sql.Identifier(str(schema), str(name))
        scope_filter = (
            sql.SQL("WHERE %(tenants)s::text[] IS NULL OR s.tenant_id = ANY (%(tenants)s::text[])")
            if scoped
            else sql.SQL("")
        )
        # Two statements (a parameter cannot go into a multi-statement query): CREATE, then INSERT.
        code = "\n".join(line for line in read_sql("dry_run/copy_table.sql").splitlines() if not line.startswith("--"))
        create, insert = (s for s in code.split(";") if s.strip())
        names = {"name": sql.Identifier(str(name)), "source": source, "scope_filter": scope_filter}
        _raw(conn).execute(sql.SQL(create).format(**names))
        tenants = list(tenant_ids) if tenant_ids is not None else None
        _raw(conn).execute(sql.SQL(insert).format(**names), {"tenants": tenants})
        qualified = f"{sql.Identifier(str(schema)).as_string(conn)}.{sql.Identifier(str(name)).as_string(conn)}"
        indexes = _raw(conn).execute(read_sql("dry_run/indexes.sql").encode(), {"table": qualified}).fetchall()
        for (definition,) in indexes:
            _raw(conn).execute(shadow_sql(str(definition)).encode())
        copied.append(str(name))
    return copied


def _has_column(conn: Conn, table: str, column: str) -> bool:
    row = _raw(conn).execute(read_sql("dry_run/has_column.sql").encode(), {"table": table, "column": column}).fetchone()
    return bool(row and row[0])


def build_shadow(conn: Conn, tenant_ids: Sequence[str] | None) -> None:
    """Make the private copies and install head's transform in ``pg_temp`` (see the module docstring).

    ``conn`` must be inside the dry run's transaction, before its first query (the copy's snapshot).
    """
    _raw(conn).execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    # Unqualified CREATEs of 0003's SQL land in pg_temp; lookups find the copies first anyway.
    _raw(conn).execute(b"SELECT set_config('search_path', 'pg_temp, ' || current_setting('search_path'), true)")
    copied = _copy_tables(conn, tenant_ids)
    missing = [t for t in ("tenants", "voice_agent_configs", "voice_agent_calls") if t not in copied]
    if missing:
        raise OperationRefused(
            f"the database has no {', '.join(missing)} table: it is not a voice-migration v1 or v2 database; "
            "create it with `alembic upgrade head`"
        )
    row = _raw(conn).execute(b"SELECT to_regclass('public.voice_agent_v2_flags') IS NULL").fetchone()
    if row and row[0]:
        _run_shadow_file(conn, FLAGS_TABLES_FILE)  # unqualified CREATE TABLEs: pg_temp is first in the path
    for name in NORMALISERS:
        _run_shadow_file(conn, _object_file(name))
    for path in EXPAND_TABLE_FILES:
        _run_shadow_file(conn, path)
    if not _has_column(conn, "voice_agent_configs", "schema_version"):
        _run_shadow_file(conn, EXPAND_COLUMNS_FILE)
    _raw(conn).execute(shadow_sql(read_sql(CALLS_INDEX_FILE).replace("CONCURRENTLY ", "")).encode())
    for name in (*CATALOGS, *TRANSFORMS):
        _run_shadow_file(conn, _object_file(name))
    _raw(conn).execute(COMPILE_RULES.encode())
    for name in copied:
        # Temporary tables are never analysed by autovacuum: without statistics the batches plan badly.
        _raw(conn).execute(sql.SQL("ANALYZE pg_temp.{}").format(sql.Identifier(name)))
    _raw(conn).execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(REHEARSAL_LOCK_TIMEOUT)).as_string(conn).encode()
    )
    audit_locks(conn, "copying the tables")


def audit_locks(conn: Conn, step: str) -> None:
    """Raise :class:`OperationRefused` if this session holds a lock an application write could wait on."""
    held = _raw(conn).execute(read_sql("dry_run/lock_audit.sql").encode()).fetchall()
    if held:
        locks = ", ".join(f"{mode} on {table}" for mode, table in held)
        raise OperationRefused(
            f"the dry run stopped after {step}: it holds {locks}, a lock application writes could wait on; "
            "it was rolled back and changed nothing; this is a bug in voice-migration: report it"
        )


def would_back_up(conn: Conn, revision: str) -> tuple[int, int, int]:
    """Record the backup a real run would take in the copy's manifest; return (tenants, configs, calls)."""
    row = conn.execute(read_sql("dry_run/would_back_up.sql"), {"revision": revision}).fetchone()
    assert row is not None
    tenants, configs, calls, _ = row
    return int(str(tenants)), int(str(configs)), int(str(calls))


@contextlib.contextmanager
def shadow_cursors(conn: Conn) -> Iterator[Conn]:
    """``conn`` with every cursor rewriting its statements to the copies, for the block."""
    previous = conn.cursor_factory
    conn.cursor_factory = ShadowCursor
    try:
        yield conn
    finally:
        conn.cursor_factory = previous


def not_rehearsed(revisions_to_apply: Sequence[str]) -> str:
    """The ``revisions`` step's note: which revisions the dry run did not apply, and why."""
    if not revisions_to_apply:
        return "none to apply"
    names = (
        revisions_to_apply[0]
        if len(revisions_to_apply) == 1
        else f"{revisions_to_apply[0]} .. {revisions_to_apply[-1]}"
    )
    return (
        f"not rehearsed: {names} ({len(revisions_to_apply)}; DDL on the application tables takes locks a dry run "
        "never takes); the phases ran on private copies with head's v2 columns and functions"
    )


def sql_files() -> tuple[Path, ...]:
    """The runtime SQL files of the dry run (for layout tests)."""
    return tuple(sorted((sql_dir() / "dry_run").glob("*.sql")))
