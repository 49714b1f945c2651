"""Backups that leave the database: ``backups export`` writes one to files, ``backups import`` loads it back.

An export of backup ``B`` to ``DIR`` is the directory ``DIR/B/``:

* ``<table>.copy`` for each table the backup holds (tenants, configs, calls, and metrics when it has
  them): PostgreSQL's COPY text format, made by ``COPY ... TO STDOUT`` and streamed to the file block
  by block through psycopg's copy API, so no table is ever held in memory (``python -m bench
  backup_rss`` measures it);
* ``manifest.json``: id, kind, scope, counts, the backup's checksums (the very values of
  ``voice_migration.backups``, made by ``sql/backup/checksum.sql``), Alembic revision, created_at,
  tool version, and per table its key, columns with their types, file size and SHA-256;
* ``SHA256SUMS``, so that ``sha256sum -c SHA256SUMS`` checks a copy with standard tools.

The export is written into a hidden ``DIR/.B.*.partial`` directory that is renamed to ``DIR/B`` only
when complete: a directory named after a backup is always a whole export. Before writing, the backup's
tables are checked against their manifest checksums by the export's own transaction, so a backup damaged
inside the database is refused rather than exported.

An import checks what it can before connecting (the manifest parses; every file exists with its
size), then does everything in ONE transaction, which is its staging area: it checks the revision,
creates the backup's tables, streams each file in with COPY while hashing it, compares the hash, keys
the table, recomputes the table's checksum in SQL with the backup's own checksum function and compares
it with the manifest — and only then inserts the manifest row and commits. Until that commit no other
session sees any of it; any fault rolls all of it back (tables, manifest row, and the
``voice_migration`` schema itself on a database that had none).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql

from voice_migration import __version__
from voice_migration.infra.errors import CheckFailed, OperationRefused, UsageError
from voice_migration.infra.resources import read_sql
from voice_migration.migration.backup import (
    SCHEMA,
    TABLES,
    BackedUpTable,
    BackupInfo,
    Column,
    Conn,
    canonical_text,
    checksum,
    columns_of,
    ensure_manifest,
    get_backup,
    validate_backup_id,
)
from voice_migration.migration.revisions import current_revision, known_revisions
from voice_migration.migration.scope import describe_scope

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FORMAT = "voice-migration-backup-export"
FORMAT_VERSION = 1
BLOCK_SIZE = 1 << 16  # bytes sent per COPY write on import; memory stays at a few blocks
_TABLES = {t.name: t for t in TABLES}
_REQUIRED_TABLES = ("tenants", "configs", "calls")
_KINDS = ("manual", "migrate", "safety")
# What format_type() writes for the types a backup table can have: one identifier, then only the words
# of multi-word type names, an optional modifier and array brackets. Nothing else reaches CREATE TABLE
# from a manifest, so a tampered manifest cannot smuggle a constraint or a statement in.
_TYPE = re.compile(
    r"[a-z_][a-z0-9_]*(?: (?:precision|varying|with|without|time|zone))*"
    r"(?:\([0-9]+(?:,[0-9]+)?\))?(?: (?:with|without) time zone)?(?:\[\])*"
)


@dataclass(frozen=True)
class ExportedTable:
    """One file of an export: which backup table it holds, its columns, and what the file must be."""

    name: str
    file: str
    columns: tuple[Column, ...]
    bytes: int
    sha256: str

    @property
    def table(self) -> BackedUpTable:
        """The backed-up table this file holds (key and scope come from the code, not from the file)."""
        return _TABLES[self.name]


@dataclass(frozen=True)
class ExportManifest:
    """``manifest.json``: what an export holds, and how to check it."""

    backup_id: str
    kind: str
    created_at: datetime
    alembic_revision: str | None
    tenant_ids: tuple[str, ...] | None
    counts: Mapping[str, int]
    checksums: Mapping[str, str]
    note: str | None
    tool_version: str
    exported_at: datetime
    tables: tuple[ExportedTable, ...]

    def to_json(self) -> str:
        """The manifest as written to ``manifest.json``."""
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "backup_id": self.backup_id,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "alembic_revision": self.alembic_revision,
            "scope": describe_scope(self.tenant_ids),
            "tenant_ids": None if self.tenant_ids is None else list(self.tenant_ids),
            "counts": dict(self.counts),
            "checksums": dict(self.checksums),
            "checksum_method": "sql/backup/checksum.sql (TimeZone UTC, DateStyle ISO)",
            "note": self.note,
            "tool_version": self.tool_version,
            "exported_at": self.exported_at.isoformat(),
            "tables": [
                {
                    "name": t.name,
                    "key": t.table.key,
                    "file": t.file,
                    "bytes": t.bytes,
                    "sha256": t.sha256,
                    "columns": [{"name": c.name, "type": c.type, "not_null": c.not_null} for c in t.columns],
                }
                for t in self.tables
            ],
        }
        return json.dumps(document, indent=2) + "\n"


@dataclass(frozen=True)
class ExportResult:
    """Where an export went and what it holds."""

    backup_id: str
    path: Path
    manifest: ExportManifest
    seconds: float

    @property
    def total_bytes(self) -> int:
        """Size of the data files."""
        return sum(t.bytes for t in self.manifest.tables)


# --- export ---------------------------------------------------------------------------------------


def export_backup(conn: Conn, backup_id: str, directory: Path) -> ExportResult:
    """Write backup ``backup_id`` to ``directory/<backup_id>/`` (see the module docstring); return where.

    ``conn`` must not be inside a transaction. Refuses (:class:`UsageError`) an unknown id or an
    existing target, and (:class:`CheckFailed`) a backup whose tables no longer match their checksums.
    """
    validate_backup_id(backup_id)
    started = time.perf_counter()
    get_backup(conn, backup_id)  # an unknown id is refused before anything is written
    target = directory / backup_id
    if target.exists():
        raise UsageError(
            f"{target} already exists: an export is never overwritten; choose another --to directory "
            "or remove the old export first"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{backup_id}.", suffix=".partial", dir=directory))
    except OSError as exc:
        raise UsageError(
            f"cannot write to {directory}: {exc.strerror or exc}; choose a writable --to directory"
        ) from exc
    try:
        with conn.transaction():
            # READ COMMITTED on purpose: a backup's tables never change once made, so one snapshot for the
            # whole export buys nothing, and on a live database it would hold back vacuum for as long as
            # the files take to write. The tables' locks, held to the end, keep a `backups drop` waiting.
            conn.execute("SET TRANSACTION READ ONLY")
            canonical_text(conn)
            info = get_backup(conn, backup_id)
            files = tuple(_export_table(conn, info, table, partial) for table in info.tables())
            exported_at = _database_now(conn)
            note = _note(conn, backup_id)
        manifest = ExportManifest(
            backup_id=info.backup_id,
            kind=info.kind,
            created_at=info.created_at,
            alembic_revision=info.alembic_revision,
            tenant_ids=info.tenant_ids,
            counts=_counts(info),
            checksums=dict(info.checksums),
            note=note,
            tool_version=__version__,
            exported_at=exported_at,
            tables=files,
        )
        (partial / SUMS).write_text("".join(f"{t.sha256}  {t.file}\n" for t in files), encoding="utf-8")
        _write_synced(partial / MANIFEST, manifest.to_json())
        os.rename(partial, target)
        _sync_directory(directory)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise OperationRefused(
            f"the export of {backup_id} to {directory} failed ({exc.strerror or exc}); nothing was left there; "
            "free space or choose another --to directory and run it again"
        ) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ExportResult(backup_id, target, manifest, time.perf_counter() - started)


def _export_table(conn: Conn, info: BackupInfo, table: BackedUpTable, directory: Path) -> ExportedTable:
    name = table.backup_table(info.backup_id)
    columns = columns_of(conn, SCHEMA, name)
    backup = sql.Identifier(SCHEMA, name)
    if not columns or checksum(conn, backup, [c.name for c in columns], table.key)[1] != info.checksums[table.name]:
        raise CheckFailed(
            f"backup {info.backup_id} is damaged inside the database: its {table.name} copy is missing or differs "
            "from its manifest checksum; nothing was exported; export another backup (`voice-migration backups list`)"
        )
    query = sql.SQL(read_sql("backup/export_copy.sql")).format(
        backup=backup, columns=sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    file = f"{table.name}.copy"
    digest = hashlib.sha256()
    size = 0
    with conn.cursor() as cur, cur.copy(query) as copy, (directory / file).open("wb") as out:
        # Bytes only pass through here (libpq hands over the COPY stream in pieces): no row is parsed or kept.
        for block in copy:
            digest.update(block)
            size += len(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return ExportedTable(table.name, file, columns, size, digest.hexdigest())


def _counts(info: BackupInfo) -> dict[str, int]:
    counts = {"tenants": info.tenants_count, "configs": info.configs_count, "calls": info.calls_count}
    if info.metrics_count is not None:
        counts["metrics"] = info.metrics_count
    return counts


def _note(conn: Conn, backup_id: str) -> str | None:
    row = conn.execute("SELECT note FROM voice_migration.backups WHERE backup_id = %s", (backup_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _database_now(conn: Conn) -> datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None and isinstance(row[0], datetime)
    return row[0]


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading a manifest ---------------------------------------------------------------------------


def read_manifest(directory: Path) -> ExportManifest:
    """Parse and check ``directory/manifest.json``.

    No manifest: :class:`UsageError` (exit 2: not an export directory). A manifest that does not
    parse or lacks a field: :class:`CheckFailed` (exit 1: the export is damaged).
    """
    path = directory / MANIFEST
    if not path.is_file():
        raise UsageError(
            f"{directory} is not a backup export: it has no {MANIFEST}; "
            "give the directory `voice-migration backups export` wrote (DIR/backup_YYYYMMDD_HHMMSS)"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return _parse_manifest(document)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckFailed(
            f"{path} is damaged ({_reason(exc)}); nothing was imported; copy the export again from its source"
        ) from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"field {exc.args[0]!r} is missing"
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _parse_manifest(document: dict[str, object]) -> ExportManifest:
    if document.get("format") != FORMAT:
        raise ValueError(f"it is not a {FORMAT} manifest")
    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"format_version {document.get('format_version')!r} is not {FORMAT_VERSION}: "
            "it was written by another version of voice-migration"
        )
    backup_id = str(document["backup_id"])
    validate_backup_id(backup_id)
    kind = str(document["kind"])
    if kind not in _KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(_KINDS)}")
    counts = {str(k): int(v) for k, v in _mapping(document["counts"]).items()}  # type: ignore[call-overload]
    checksums = {str(k): str(v) for k, v in _mapping(document["checksums"]).items()}
    tables = tuple(_parse_table(_mapping(t)) for t in _sequence(document["tables"]))
    names = [t.name for t in tables]
    if len(set(names)) != len(names) or set(names) != set(checksums) or set(names) != set(counts):
        raise ValueError("its tables, counts and checksums do not name the same tables")
    missing = [n for n in _REQUIRED_TABLES if n not in names]
    if missing:
        raise ValueError(f"it lacks the {', '.join(missing)} table")
    tenant_ids = document["tenant_ids"]
    revision = document["alembic_revision"]
    note = document.get("note")
    return ExportManifest(
        backup_id=backup_id,
        kind=kind,
        created_at=datetime.fromisoformat(str(document["created_at"])),
        alembic_revision=None if revision is None else str(revision),
        tenant_ids=None if tenant_ids is None else tuple(str(t) for t in _sequence(tenant_ids)),
        counts=counts,
        checksums=checksums,
        note=None if note is None else str(note),
        tool_version=str(document["tool_version"]),
        exported_at=datetime.fromisoformat(str(document["exported_at"])),
        tables=tuple(sorted(tables, key=lambda t: [x.name for x in TABLES].index(t.name))),
    )


def _parse_table(entry: Mapping[str, object]) -> ExportedTable:
    name = str(entry["name"])
    if name not in _TABLES:
        raise ValueError(f"table {name[:40]!r} is not one a backup holds")
    file = str(entry["file"])
    if file != f"{name}.copy":
        raise ValueError(f"the file of table {name} must be {name}.copy, not {file[:60]!r}")
    columns = tuple(
        Column(str(c["name"]), bool(c["not_null"]), False, str(c["type"]))
        for c in (_mapping(x) for x in _sequence(entry["columns"]))
    )
    for column in columns:
        if not _TYPE.fullmatch(column.type):
            raise ValueError(f"column {name}.{column.name[:40]} has type {column.type[:40]!r}, not a type name")
    if _TABLES[name].key not in {c.name for c in columns}:
        raise ValueError(f"table {name} lacks its key column {_TABLES[name].key}")
    size = int(str(entry["bytes"]))
    sha256 = str(entry["sha256"])
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"the sha256 of {file} is not a SHA-256")
    return ExportedTable(name, file, columns, size, sha256)


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return value


def _sequence(value: object) -> Sequence[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


# --- import ---------------------------------------------------------------------------------------


def check_revision(backup_revision: str | None, database_revision: str | None) -> None:
    """Refuse (:class:`OperationRefused`) a backup this database cannot hold: see the rules below.

    Compatible means both revisions are ones this tool knows, and the database is at the backup's
    revision or later. A backup from an earlier revision is fine: a restore puts its rows back and
    resets the columns it lacks (a v1 backup restored at v2). A backup from a later revision has
    columns this database lacks; the database must be upgraded first.
    """
    chain = known_revisions(sunset=True)
    for what, revision in (("the backup was taken", backup_revision), ("the database is", database_revision)):
        if revision is not None and revision not in chain:
            raise OperationRefused(
                f"{what} at Alembic revision {revision!r}, which this version of voice-migration "
                f"({__version__}) does not know; import it with the version that exported it, "
                "or upgrade voice-migration"
            )

    def position(revision: str | None) -> int:
        return -1 if revision is None else chain.index(revision)

    if position(database_revision) < position(backup_revision):
        raise OperationRefused(
            f"the backup was taken at revision {backup_revision}, the database is at "
            f"{database_revision or 'no Alembic revision'}: the backup has columns this database lacks; "
            f"upgrade it first (`alembic upgrade {backup_revision}`) and import again"
        )


def import_backup(conn: Conn, directory: Path) -> BackupInfo:
    """Load the export in ``directory`` into schema ``voice_migration`` (see the module docstring).

    ``conn`` must not be inside a transaction. Returns the new manifest row. Raises
    :class:`UsageError` (not an export), :class:`CheckFailed` (damaged, truncated, checksum differs)
    or :class:`OperationRefused` (incompatible revision, id already present); each leaves nothing behind.
    """
    manifest = read_manifest(directory)
    for entry in manifest.tables:
        _check_file_size(directory, entry)
    with conn.transaction():
        canonical_text(conn)
        check_revision(manifest.alembic_revision, current_revision(conn))
        ensure_manifest(conn)
        taken = conn.execute(read_sql("backup/backup_exists.sql"), {"backup_id": manifest.backup_id}).fetchone()
        if taken and taken[0]:
            raise OperationRefused(
                f"this database already has a backup {manifest.backup_id}: nothing was imported; "
                "restore that one, or drop it first (`voice-migration backups drop`) to import the export"
            )
        for entry in manifest.tables:
            _import_table(conn, directory, manifest, entry)
        conn.execute(
            read_sql("backup/import_manifest.sql"),
            {
                "backup_id": manifest.backup_id,
                "created_at": manifest.created_at,
                "kind": manifest.kind,
                "alembic_revision": manifest.alembic_revision,
                "tenant_ids": None if manifest.tenant_ids is None else list(manifest.tenant_ids),
                "tenants_count": manifest.counts["tenants"],
                "configs_count": manifest.counts["configs"],
                "calls_count": manifest.counts["calls"],
                "metrics_count": manifest.counts.get("metrics"),
                "checksums": json.dumps(dict(manifest.checksums)),
                "tables": [f"{SCHEMA}.{e.table.backup_table(manifest.backup_id)}" for e in manifest.tables],
                "note": _imported_note(manifest, directory),
            },
        )
        info = get_backup(conn, manifest.backup_id)
    return info


def _imported_note(manifest: ExportManifest, directory: Path) -> str:
    note = f"imported from {directory} (exported {manifest.exported_at.isoformat()} by {manifest.tool_version})"
    return note if manifest.note is None else f"{manifest.note}; {note}"


def _check_file_size(directory: Path, entry: ExportedTable) -> None:
    path = directory / entry.file
    if not path.is_file():
        raise CheckFailed(
            f"the export in {directory} is incomplete: {entry.file} is missing; nothing was imported; "
            "copy the whole export directory again"
        )
    size = path.stat().st_size
    if size != entry.bytes:
        raise CheckFailed(
            f"{path} is truncated or damaged: {size:,} bytes, the manifest says {entry.bytes:,}; "
            "nothing was imported; copy the export again from its source"
        )


def _import_table(conn: Conn, directory: Path, manifest: ExportManifest, entry: ExportedTable) -> None:
    path = directory / entry.file
    backup = sql.Identifier(SCHEMA, entry.table.backup_table(manifest.backup_id))
    definitions = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))  # c.type matched _TYPE
        for c in entry.columns
    )
    columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in entry.columns)
    digest = hashlib.sha256()
    try:
        with conn.transaction():  # a savepoint: a refused file becomes one clear line, not a raw error
            conn.execute(
                sql.SQL(read_sql("backup/import_table.sql")).format(backup=backup, column_definitions=definitions)
            )
            copy_sql = sql.SQL(read_sql("backup/import_copy.sql")).format(backup=backup, columns=columns)
            with conn.cursor() as cur, cur.copy(copy_sql) as copy, path.open("rb") as source:
                while block := source.read(BLOCK_SIZE):
                    digest.update(block)
                    copy.write(block)
            conn.execute(
                sql.SQL(read_sql("backup/import_key.sql")).format(backup=backup, key=sql.Identifier(entry.table.key))
            )
    except psycopg.Error as exc:
        detail = " ".join((exc.diag.message_primary or str(exc)).split())[:200]
        raise CheckFailed(
            f"{path} is damaged: the database refused its content ({detail}); nothing was imported; "
            "copy the export again from its source"
        ) from exc
    if digest.hexdigest() != entry.sha256:
        raise CheckFailed(
            f"{path} is damaged: its SHA-256 differs from the manifest; nothing was imported; "
            "copy the export again from its source"
        )
    rows, actual = checksum(conn, backup, [c.name for c in entry.columns], entry.table.key)
    if rows != manifest.counts[entry.name] or actual != manifest.checksums[entry.name]:
        raise CheckFailed(
            f"{path} does not hold the backed-up rows: {rows:,} rows (manifest: {manifest.counts[entry.name]:,}) "
            "and a checksum that differs from the backup's; nothing was imported; export the backup again"
        )
