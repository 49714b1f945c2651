"""Where are we? One read-only answer: revision, backfill progress, quarantine, flags, held tenants, backup.

``voice-migration status`` renders :func:`migration_status`. Each part is asked only when the schema
has it (``sql/status/objects.sql``), so the command answers on an empty, a v1-only, a half-migrated and
a sunset database alike; a part that does not exist yet is ``None`` (JSON ``null``), not an error. It
reuses the homes of each concept: the quarantine summary of ``migrate``, the rollout status of
``rollout status`` and the backup manifest of ``backups list``. It reads everything in one REPEATABLE
READ, READ ONLY transaction, so the parts describe one moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.pq import TransactionStatus

from voice_migration import flags
from voice_migration.infra.resources import read_sql
from voice_migration.migration import revisions
from voice_migration.migration.backfill import phases
from voice_migration.migration.backup import BackupInfo, list_backups
from voice_migration.migration.run import QuarantineGroup, describe_database, quarantine_groups
from voice_migration.rollout.state import as_datetime, as_int

Conn = psycopg.Connection[tuple[object, ...]]

#: Version of the JSON layout of ``status --format json`` (docs/schemas/status.schema.json).
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RevisionState:
    """The database's Alembic revision against this version's chain."""

    current: str | None
    head: str
    sunset_head: str
    pending: tuple[str, ...]  # revisions `alembic upgrade head` would apply, oldest first

    @property
    def state(self) -> str:
        """``none`` (no Alembic revision), ``head``, ``behind``, ``sunset`` (v1 dropped) or ``unknown``."""
        if self.current is None:
            return "none"
        if self.current == self.head:
            return "head"
        if self.current == self.sunset_head:
            return "sunset"
        return "behind" if self.pending else "unknown"


@dataclass(frozen=True)
class PhasePass:
    """One stored pass of a phase (``voice_migration.backfill_progress``): its scope and position."""

    scope: str
    rows_done: int
    rows_changed: int
    quarantined: int
    batches: int
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class PhaseProgress:
    """How far a backfill phase has got: rows in v2 shape out of all, and its stored passes."""

    phase: str
    total: int
    done: int
    kept_in_v1: int  # configs left in v1 shape by quarantine (they hold their tenant on v1)
    passes: tuple[PhasePass, ...]

    @property
    def percent(self) -> float:
        """Rows done out of the total, in percent (100 when there is nothing to do)."""
        return 100.0 if self.total == 0 else round(100.0 * self.done / self.total, 2)


@dataclass(frozen=True)
class HeldTenants:
    """Tenants kept on v1 because one of their configs is not in v2 shape (revision 0008)."""

    tenants: int
    configs: int
    oldest_since: datetime | None
    examples: tuple[str, ...]


@dataclass(frozen=True)
class MigrationStatus:
    """Everything ``status`` shows; a part is None when the schema does not have it (yet, or any more)."""

    database: str  # redacted
    checked_at: datetime
    revision: RevisionState
    phases: tuple[PhaseProgress, ...] | None
    quarantine: tuple[QuarantineGroup, ...] | None
    rollout: flags.RolloutStatus | None
    held_tenants: HeldTenants | None
    latest_backup: BackupInfo | None
    backups: int


def revision_state(conn: Conn) -> RevisionState:
    """The revision, this version's head and sunset head, and what ``alembic upgrade head`` would apply."""
    current = revisions.current_revision(conn)
    chain = revisions.known_revisions(sunset=False)
    head = revisions.head_revision()
    pending: tuple[str, ...] = ()
    if current is None:
        pending = tuple(chain)
    elif current in chain:
        pending = tuple(chain[chain.index(current) + 1 :])
    return RevisionState(current, head, revisions.head_revision(sunset=True), pending)


def migration_status(conn: Conn) -> MigrationStatus:
    """Read every part of the status in one snapshot; changes nothing (see the module docstring)."""
    own = conn.info.transaction_status == TransactionStatus.IDLE
    with conn.transaction():
        if own:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        present = _present(conn)
        revision = revision_state(conn)
        backups = list_backups(conn)
        return MigrationStatus(
            database=describe_database(conn),
            checked_at=_now(conn),
            revision=revision,
            phases=_phases(conn) if present["backfill"] else None,
            quarantine=quarantine_groups(conn, None) if present["quarantine"] else None,
            rollout=flags.get_rollout_status(conn) if present["flags"] else None,
            held_tenants=_held(conn) if present["held_tenants"] else None,
            latest_backup=backups[0] if backups else None,
            backups=len(backups),
        )


def _present(conn: Conn) -> Mapping[str, bool]:
    cursor = conn.execute(read_sql("status/objects.sql"))
    row = cursor.fetchone()
    assert row is not None and cursor.description is not None
    return {column.name: bool(value) for column, value in zip(cursor.description, row, strict=True)}


def _phases(conn: Conn) -> tuple[PhaseProgress, ...]:
    found: dict[str, tuple[int, int, int, list[PhasePass]]] = {}
    for phase, total, done, kept, scope, *numbers, started, updated, finished in conn.execute(
        read_sql("status/backfill_phases.sql")
    ).fetchall():
        entry = found.setdefault(str(phase), (as_int(total), as_int(done), as_int(kept), []))
        if scope is not None:
            rows_done, rows_changed, quarantined, batches = (as_int(n) for n in numbers)
            entry[3].append(
                PhasePass(
                    str(scope),
                    rows_done,
                    rows_changed,
                    quarantined,
                    batches,
                    as_datetime(started),
                    as_datetime(updated),
                    None if finished is None else as_datetime(finished),
                )
            )
    order = [phase for phase, _step in phases(conn)]
    return tuple(PhaseProgress(phase, *found[phase][:3], tuple(found[phase][3])) for phase in order if phase in found)


def _held(conn: Conn) -> HeldTenants:
    row = conn.execute(read_sql("status/held_tenants.sql")).fetchone()
    assert row is not None
    tenants, configs, oldest, examples = row
    return HeldTenants(
        as_int(tenants),
        as_int(configs),
        None if oldest is None else as_datetime(oldest),
        tuple(str(t) for t in examples),  # type: ignore[attr-defined]
    )


def _now(conn: Conn) -> datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return as_datetime(row[0])


def status_dict(status: MigrationStatus) -> dict[str, object]:
    """The status as the documented JSON object (``docs/schemas/status.schema.json``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "database": status.database,
        "checked_at": _iso(status.checked_at),
        "revision": {
            "current": status.revision.current,
            "head": status.revision.head,
            "state": status.revision.state,
            "pending": list(status.revision.pending),
        },
        "phases": None
        if status.phases is None
        else [
            {
                "phase": p.phase,
                "total": p.total,
                "done": p.done,
                "percent": p.percent,
                "kept_in_v1": p.kept_in_v1,
                "passes": [
                    {
                        "scope": s.scope,
                        "rows_done": s.rows_done,
                        "rows_changed": s.rows_changed,
                        "quarantined": s.quarantined,
                        "batches": s.batches,
                        "started_at": _iso(s.started_at),
                        "updated_at": _iso(s.updated_at),
                        "finished_at": _iso_or_none(s.finished_at),
                    }
                    for s in p.passes
                ],
            }
            for p in status.phases
        ],
        "quarantine": None
        if status.quarantine is None
        else [{"entity": q.entity, "reason": q.reason, "count": q.count} for q in status.quarantine],
        "rollout": None if status.rollout is None else status.rollout.as_dict(),
        "held_tenants": None
        if status.held_tenants is None
        else {
            "tenants": status.held_tenants.tenants,
            "configs": status.held_tenants.configs,
            "oldest_since": None
            if status.held_tenants.oldest_since is None
            else _iso(status.held_tenants.oldest_since),
            "examples": list(status.held_tenants.examples),
        },
        "latest_backup": None if status.latest_backup is None else status.latest_backup.as_dict(),
        "backups": status.backups,
    }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else _iso(value)
