"""``voice-migration migrate``: v1 -> v2 in steps, with a backup first, progress, resume and a dry run.

Steps, each reported: ``validate v1`` (the pre-flight checks) -> ``backup`` -> ``revisions``
(only when the database is below head: Alembic upgrade with ``skip_backfill``) ->
``transform configs`` -> ``infer outcomes`` -> ``metrics`` (the backfill phases, batched,
resumable) -> ``verify`` (the v2 validation checks). The rollout flag is never touched.

* A real run commits batch by batch; its resume state lives in the database
  (``voice_migration.backfill_progress``), so a killed or interrupted run is resumed by
  running the same command again.
* A dry run takes no lock an application write waits on (issue #14): in one transaction that is
  always rolled back, it copies the tables into ``pg_temp``, installs head's transform there and runs
  every step on the copies (:mod:`voice_migration.migration.dry_run`). The revisions' DDL on the
  application tables and the backup's copy are not rehearsed; the report says so.
* One run at a time: the operation lock of :mod:`voice_migration.infra.locks`, shared with the
  data restore, refuses a second run at once.

The core reports progress through a :class:`~voice_migration.progress.ProgressReporter`
and knows nothing about terminals.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy

from alembic import command
from voice_migration.infra.db import connect
from voice_migration.infra.errors import CheckFailed, OperationRefused, UsageError
from voice_migration.infra.events import emit
from voice_migration.infra.locks import exclusive_operation, retry_on_lock_timeout
from voice_migration.infra.resources import read_sql
from voice_migration.infra.settings import Settings
from voice_migration.migration import backfill, dry_run, revisions
from voice_migration.migration.backup import create_backup, table_exists
from voice_migration.migration.backup_export import export_backup
from voice_migration.migration.scope import describe_scope, require_known_tenants, set_scope
from voice_migration.progress import LogProgress, ProgressReporter

if TYPE_CHECKING:
    from voice_migration.migration.validation import ValidationReport

Conn = psycopg.Connection[tuple[object, ...]]
log = logging.getLogger(__name__)

# The default batch size is the database's (voice_migration.backfill_policy(), 5,000): --batch-size None.
MAX_BATCH_SIZE = 100_000  # the range --batch-size accepts (an input guard, not the policy)
# The backfill phases and the step names the operator sees: voice_migration.backfill_phases() (backfill.phases).
# Below this revision the v2 columns do not exist: the backfill cannot run.
EXPAND_REVISION = "0003_v2_expand"


@dataclass(frozen=True)
class MigrationOptions:
    """What the operator asked for (``migrate`` options)."""

    dry_run: bool = False
    batch_size: int | None = None  # None: the database's backfill_policy() default
    tenant_ids: tuple[str, ...] | None = None
    skip_backup: bool = False
    verbose: bool = False
    backup_to: Path | None = None  # export the backup there right after taking it (`backups export`)

    def validate(self) -> None:
        """Raise :class:`UsageError` for a batch size out of range, or ``backup_to`` without a backup."""
        if self.backup_to is not None and self.skip_backup:
            raise UsageError(
                "--backup-to exports the backup migrate takes, and --skip-backup takes none: drop one of them"
            )
        if self.batch_size is not None and not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise UsageError(
                f"--batch-size {self.batch_size} is out of range: use 1 to {MAX_BATCH_SIZE:,} "
                "(default: the database's voice_migration.backfill_policy(); smaller batches hold row locks "
                "for less time)"
            )


@dataclass(frozen=True)
class StepSummary:
    """One step of the run: rows it did (or would do), how long it took, a short note."""

    name: str
    rows: int
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class QuarantineGroup:
    """Quarantined rows of one entity and reason, with a few examples (id and offending value)."""

    entity: str
    reason: str
    count: int
    examples: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ConfigSample:
    """A migrated config: v1 values beside the v2 values derived from them (dry run ``--verbose``)."""

    id: str
    language: str | None
    voice_id: str | None
    prompt_start: str | None
    assistant_type: str | None
    voice_config: str | None
    capabilities: str | None
    personality: str | None


@dataclass(frozen=True)
class MigrationPlan:
    """Where the database stands and what ``migrate`` would do: shown before asking to go on."""

    database: str
    current_revision: str
    head_revision: str
    revisions_to_apply: tuple[str, ...]
    tenant_ids: tuple[str, ...] | None
    pending: Mapping[str, int] | None  # None: below 0003, the v2 columns do not exist yet
    dry_run: bool
    skip_backup: bool
    phase_steps: Mapping[str, str] = field(default_factory=dict)  # phase -> step name (backfill_phases())

    @property
    def scope(self) -> str:
        """``all tenants`` or the tenant list."""
        return describe_scope(self.tenant_ids)


@dataclass(frozen=True)
class MigrationResult:
    """What a run did — or, for a dry run, would do."""

    plan: MigrationPlan
    steps: tuple[StepSummary, ...]
    backup_id: str | None
    quarantine: tuple[QuarantineGroup, ...]
    preflight: ValidationReport | None
    verification: ValidationReport | None
    samples: tuple[ConfigSample, ...]
    final_revision: str
    seconds: float
    interrupted: bool = False

    @property
    def rows(self) -> int:
        """Rows changed by the backfill phases."""
        return sum(s.rows for s in self.steps if s.name not in NON_PHASE_STEPS)

    @property
    def rate(self) -> float:
        """Backfill rows per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def quarantined(self) -> int:
        """Quarantine entries in the scope (one per row and reason)."""
        return sum(g.count for g in self.quarantine)

    @property
    def verified(self) -> bool:
        """True when the verify step ran and found nothing blocking."""
        return self.verification is not None and self.verification.ok


@dataclass
class _Run:
    """Mutable bookkeeping while the steps run."""

    reporter: ProgressReporter
    steps: list[StepSummary] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str, total: int | None = None) -> Iterator[list[StepSummary]]:
        started = time.perf_counter()
        self.reporter.start_phase(name, total)
        holder: list[StepSummary] = []
        yield holder
        summary = holder[0] if holder else StepSummary(name, 0, 0.0)
        summary = StepSummary(name, summary.rows, time.perf_counter() - started, summary.detail)
        self.steps.append(summary)
        self.reporter.finish_phase(name, summary.detail or f"{summary.rows:,} rows")


# Every step that is not a backfill phase (those come from the database's phase registry).
NON_PHASE_STEPS = frozenset({"validate v1", "backup", "revisions", "verify"})


# --- the revision guard -------------------------------------------------------------------


def revisions_to_apply(current: str | None) -> tuple[str, ...]:
    """The revisions between ``current`` and head; refuses a database with no or an unknown revision."""
    chain = revisions.known_revisions(sunset=False)
    if current is None:
        raise OperationRefused(
            "the database has no Alembic revision (no alembic_version row), so migrate cannot tell what it holds; "
            "if it is a v1 database, adopt it with `alembic stamp 0001_v1_baseline` and run migrate again"
        )
    if current not in chain:
        sunset = current in revisions.known_revisions(sunset=True)
        raise OperationRefused(
            f"the database is at Alembic revision {current!r}, "
            + (
                "after the v1 sunset: there is no v1 data left to migrate"
                if sunset
                else "which this version of voice-migration does not know; upgrade voice-migration, or if this is "
                "a v1 database adopt it with `alembic stamp 0001_v1_baseline`"
            )
        )
    return tuple(chain[chain.index(current) + 1 :])


def plan_migration(conn: Conn, options: MigrationOptions) -> MigrationPlan:
    """Check the revision and the tenant scope, and say what ``migrate`` would do (read-only)."""
    options.validate()
    current = revisions.current_revision(conn)
    to_apply = revisions_to_apply(current)
    assert current is not None
    require_known_tenants(conn, options.tenant_ids)
    at_expand = EXPAND_REVISION not in to_apply
    pending = backfill.pending_counts(conn, options.tenant_ids) if at_expand else None
    phase_steps = dict(backfill.phases(conn))
    if not conn.autocommit:
        conn.rollback()
    return MigrationPlan(
        database=describe_database(conn),
        current_revision=current,
        head_revision=revisions.head_revision(),
        revisions_to_apply=to_apply,
        tenant_ids=options.tenant_ids,
        pending=pending,
        dry_run=options.dry_run,
        skip_backup=options.skip_backup,
        phase_steps=phase_steps,
    )


def describe_database(conn: Conn) -> str:
    """``user@host:port/dbname`` of a connection: no password, safe to print."""
    info = conn.info
    return f"{info.user}@{info.host}:{info.port}/{info.dbname}"


# --- the steps ------------------------------------------------------------------------------


def _upgrade(settings: Settings, target: str) -> None:
    """``alembic upgrade TARGET`` with the backfill left to the phases."""
    config = revisions.alembic_config(settings.database_url)
    config.attributes["skip_backfill"] = True
    try:
        command.upgrade(config, target)
    except sqlalchemy.exc.DBAPIError as exc:
        # Unwrap, so lock timeouts are retried and database errors are reported like ours.
        if isinstance(exc.orig, psycopg.Error):
            raise exc.orig from exc
        raise


def quarantine_groups(
    conn: Conn, tenant_ids: Sequence[str] | None, *, shadow: bool = False
) -> tuple[QuarantineGroup, ...]:
    """Quarantined rows per entity and reason in the tenant scope, with examples (empty before revision 0003)."""
    # A dry run's copies always have a quarantine (0003's table, made on the copy when missing).
    if not shadow and not table_exists(conn, "voice_migration", "quarantine"):
        return ()  # stopped before the revisions made it
    with conn.transaction():
        set_scope(conn, tenant_ids)
        rows = conn.execute(read_sql("migrate/quarantine_summary.sql")).fetchall()
    return tuple(
        QuarantineGroup(
            entity=str(entity),
            reason=str(reason),
            count=int(count),  # type: ignore[call-overload]
            examples=tuple(zip((str(i) for i in ids), (str(d) for d in details), strict=True)),  # type: ignore[attr-defined]
        )
        for entity, reason, count, ids, details in rows
    )


def _samples(conn: Conn, tenant_ids: Sequence[str] | None) -> tuple[ConfigSample, ...]:
    with conn.transaction():
        set_scope(conn, tenant_ids)
        rows = conn.execute(read_sql("migrate/config_samples.sql")).fetchall()
    return tuple(ConfigSample(*(None if v is None else str(v) for v in row)) for row in rows)  # type: ignore[arg-type]


def _run_phases(
    conn: Conn,
    run: _Run,
    options: MigrationOptions,
    should_stop: Callable[[], bool],
) -> bool:
    """The backfill phases; returns True when the operator stopped the run.

    A phase's progress bar gets its total from the phase's first progress report (the keys it walks),
    not from :func:`backfill.pending_counts`: counting the pending configs derives every config, which
    cost 3 s of a 1,000,000-call run only to size a bar that the first batch resizes anyway.
    """
    for phase, label in backfill.phases(conn):
        if should_stop():
            return True

        def progress(_phase: str, done: int, total: int, label: str = label) -> None:
            run.reporter.update(label, done, total)

        with run.step(label) as out:
            try:
                result = backfill.run_phase(
                    conn,
                    phase,
                    batch_size=options.batch_size,
                    tenant_ids=options.tenant_ids,
                    on_progress=progress,
                    should_stop=should_stop,
                    commit=not options.dry_run,
                )
            except psycopg.errors.IntegrityError as exc:
                raise _integrity_error(label, exc) from exc
            note = f"{result.rows_changed:,} rows {'would change' if options.dry_run else 'changed'}"
            if result.quarantined:
                note += f", {result.quarantined:,} quarantined"
            out.append(StepSummary(label, result.rows_changed, 0.0, note))
        if not result.finished:
            return True
    return False


def _integrity_error(step: str, exc: psycopg.errors.IntegrityError) -> CheckFailed:
    diag = exc.diag
    check = "foreign_keys" if isinstance(exc, psycopg.errors.ForeignKeyViolation) else "duplicates"
    return CheckFailed(
        f"{step} stopped on v1 data: {diag.message_primary} on {diag.table_name} "
        f"({diag.message_detail or diag.constraint_name}); the failing batch was rolled back and earlier batches "
        f"are kept; list the rows with `voice-migration validate --check {check}`, fix them, "
        "then run migrate again to resume"
    )


def _preflight(conn: Conn, run: _Run, options: MigrationOptions) -> ValidationReport:
    from voice_migration.migration.validation import run_preflight

    with run.step("validate v1") as out:
        report = run_preflight(conn, options.tenant_ids)
        findings = sum(r.violations for r in report.results)
        out.append(StepSummary("validate v1", findings, 0.0, f"{findings:,} findings in {len(report.results)} checks"))
    if not report.ok:
        worst = report.blocking[0]
        example = (
            f" (e.g. {worst.examples[0].entity} {worst.examples[0].id}: {worst.examples[0].detail})"
            if worst.examples
            else ""
        )
        raise CheckFailed(
            f"the v1 pre-flight check {worst.check.name} found {worst.violations:,} rows that would break the "
            f"migration{example}; nothing was changed; list them with `psql -f sql/preflight/{worst.check.name}.sql`, "
            "fix them and run migrate again"
        )
    return report


def _verify(conn: Conn, run: _Run, options: MigrationOptions) -> ValidationReport:
    from voice_migration.migration.validation import run_validation

    with run.step("verify") as out:
        report = run_validation(conn, tenant_ids=options.tenant_ids)
        note = "all checks passed" if report.ok else f"{len(report.blocking)} checks failed"
        out.append(StepSummary("verify", sum(r.violations for r in report.results), 0.0, note))
    return report


def _export(conn: Conn, run: _Run, directory: Path, backup_id: str | None) -> None:
    """``--backup-to``: the backup leaves the database before any revision or phase changes a row.

    A dry run's backup is rolled back, so it is not exported; the dry run only checks that the
    directory can be written to.
    """
    with run.step("export backup") as out:
        if backup_id is None:
            _require_writable(directory)
            out.append(StepSummary("export backup", 0, 0.0, f"would export the backup to {directory}"))
            return
        result = export_backup(conn, backup_id, directory)
        out.append(StepSummary("export backup", 0, 0.0, f"{result.path} ({result.total_bytes:,} bytes)"))


def _require_writable(directory: Path) -> None:
    probe = directory if directory.exists() else next((p for p in directory.parents if p.exists()), Path("."))
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--backup-to {directory}: {probe} is not a writable directory; choose another one")


def _steps(
    conn: Conn,
    run: _Run,
    plan: MigrationPlan,
    options: MigrationOptions,
    upgrade: Callable[[], str],
    should_stop: Callable[[], bool],
) -> tuple[str | None, ValidationReport, bool]:
    """validate v1 -> backup -> revisions -> phases; returns (backup id, pre-flight report, stopped)."""
    preflight = _preflight(conn, run, options)
    backup_id = None
    if options.skip_backup:
        log.warning("--skip-backup: NO BACKUP is taken; a data rollback of this run will not be possible")
    else:
        with run.step("backup") as out:
            if options.dry_run:
                # Counted, not copied: the copy is the real run's work (and its manifest row goes
                # into the private copy's manifest, so verify's record_counts compares with it).
                with conn.transaction():
                    set_scope(conn, options.tenant_ids)
                    _, configs, calls = dry_run.would_back_up(conn, plan.current_revision)
                note = f"would back up {configs:,} configs, {calls:,} calls"
                out.append(StepSummary("backup", configs + calls, 0.0, note))
            else:
                info = create_backup(conn, options.tenant_ids, kind="migrate")
                backup_id = info.backup_id
                copied = f"{info.configs_count:,} configs, {info.calls_count:,} calls"
                out.append(StepSummary("backup", info.configs_count + info.calls_count, 0.0, f"{backup_id}: {copied}"))
        if options.backup_to is not None:
            _export(conn, run, options.backup_to, backup_id)
    if should_stop():
        return backup_id, preflight, True
    if plan.revisions_to_apply:
        with run.step("revisions", len(plan.revisions_to_apply)) as out:
            note = upgrade()
            out.append(StepSummary("revisions", len(plan.revisions_to_apply), 0.0, note))
    stopped = _run_phases(conn, run, options, should_stop)
    return backup_id, preflight, stopped


def run_migration(
    settings: Settings,
    options: MigrationOptions,
    *,
    reporter: ProgressReporter | None = None,
    should_stop: Callable[[], bool] | None = None,
    confirm: Callable[[MigrationPlan], None] | None = None,
) -> MigrationResult:
    """Run (or dry-run) the migration; see the module docstring.

    ``confirm`` is called with the plan once the guards passed and the lock is held; it
    raises to refuse. ``should_stop`` is polled between batches (Ctrl-C). Announces an event
    (:mod:`voice_migration.infra.events`) when a real run ends or fails.
    """
    options.validate()
    reporter = reporter or LogProgress()
    stop = should_stop or (lambda: False)
    started = time.perf_counter()
    with connect(settings, autocommit=True) as lock_conn, exclusive_operation(lock_conn, "migrate"):
        plan = plan_migration(lock_conn, options)
        if confirm is not None:
            confirm(plan)
        run = _Run(reporter)
        try:
            result = _execute(settings, run, plan, options, stop, started)
        except Exception as exc:
            if not options.dry_run:
                emit("migration_failed", "voice-migration migrate failed", {"error": str(exc)})
            raise
        finally:
            reporter.close()
    if not options.dry_run:
        emit(
            "migration_interrupted" if result.interrupted else "migration_completed",
            f"migrate {'stopped by the operator' if result.interrupted else 'finished'} for {plan.scope}",
            {
                "backup_id": result.backup_id or "none (--skip-backup)",
                "rows": result.rows,
                "quarantined": result.quarantined,
                "verified": result.verified,
                "seconds": round(result.seconds, 1),
            },
        )
    return result


def _execute(
    settings: Settings,
    run: _Run,
    plan: MigrationPlan,
    options: MigrationOptions,
    stop: Callable[[], bool],
    started: float,
) -> MigrationResult:
    session = _dry_run_session if options.dry_run else _real_session
    with session(settings, plan) as (conn, upgrade):

        def audit(step: str) -> None:
            if options.dry_run:  # the guard of issue #14: no lock an application write waits on
                dry_run.audit_locks(conn, step)

        backup_id, preflight, stopped = _steps(conn, run, plan, options, upgrade, stop)
        audit("the backfill phases")
        verification = None if stopped else _verify(conn, run, options)
        quarantine = quarantine_groups(conn, options.tenant_ids, shadow=options.dry_run)
        samples = _samples(conn, options.tenant_ids) if options.dry_run and options.verbose else ()
        audit("verification")
        # A dry run never changes the revision; a real run reports where it got to.
        final = (revisions.current_revision(conn) if not options.dry_run else None) or plan.current_revision
    return MigrationResult(
        plan, tuple(run.steps), backup_id, quarantine, preflight, verification, samples, final,
        time.perf_counter() - started, interrupted=stopped,
    )  # fmt: skip


Session = Iterator[tuple[Conn, Callable[[], str]]]


@contextlib.contextmanager
def _real_session(settings: Settings, plan: MigrationPlan) -> Session:
    """An autocommit connection (every step commits its own work) and Alembic on its own connection."""

    def upgrade() -> str:
        retry_on_lock_timeout(lambda: _upgrade(settings, "head"), what="applying the Alembic revisions")
        return f"{plan.current_revision} -> {plan.head_revision}"

    with connect(settings, autocommit=True) as conn:
        yield conn, upgrade


@contextlib.contextmanager
def _dry_run_session(settings: Settings, plan: MigrationPlan) -> Session:
    """One transaction, always rolled back, on a connection whose statements run on private copies.

    See :mod:`voice_migration.migration.dry_run`: the application's tables are only read (ACCESS
    SHARE, in one snapshot), never written, altered or row-locked.
    """
    with connect(settings, autocommit=True) as conn:
        conn.execute("SET application_name = 'voice-migration-dry-run'")
        # force_rollback: whatever happens, nothing is committed; and an accidental
        # commit() inside the block raises instead of persisting half a dry run.
        with conn.transaction(force_rollback=True):
            dry_run.build_shadow(conn, plan.tenant_ids)
            with dry_run.shadow_cursors(conn):
                yield conn, lambda: dry_run.not_rehearsed(plan.revisions_to_apply)
