"""The steps of ``voice-migration demo``: what each one runs and the lines it reports.

:class:`Walk` holds what the steps share (one autocommit connection, the checksums taken before
migrating, the backups and the tenant made on the way); each step calls the same core functions as
the command it names and returns a few lines with the numbers that matter, or raises
:class:`~voice_migration.infra.errors.CheckFailed` when what it shows is not true. Two things are made up, and
the lines say so: recent calls where the v2 cohort does worse than v1 (``sql/demo/simulated_traffic.sql``),
so the health gate refuses for a real reason, and a bad write to one tenant's prompts
(``sql/demo/simulated_damage.sql``), so the data restore has something to repair.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from voice_migration import flags
from voice_migration.demo.seed import V1_TABLES, SeedSpec, seed_v1
from voice_migration.infra.db import connect
from voice_migration.infra.errors import CheckFailed, OperationRefused
from voice_migration.infra.resources import read_sql
from voice_migration.infra.settings import Settings
from voice_migration.migration import backup, revisions
from voice_migration.migration.restore import restore_backup
from voice_migration.migration.run import MigrationOptions, MigrationResult, run_migration
from voice_migration.migration.validation import ValidationReport, run_validation
from voice_migration.progress import ProgressReporter
from voice_migration.rollout import changes as rollout
from voice_migration.rollout.health import HealthPolicy
from voice_migration.rollout.plan import RolloutPlan

Conn = psycopg.Connection[tuple[object, ...]]
ProgressFactory = Callable[[], ProgressReporter]

OPERATOR = "demo"
FIRST_PERCENTAGE = 5
PARTIAL_PERCENTAGE = 2
DRY_RUN_TENANTS = 3  # the dry run's sample (see Walk.dry_run)
# No minimum hold between steps: the demo has minutes, not days, so only the health checks decide.
DEMO_PLAN = RolloutPlan.parse("5,10,25,50,75,100", "the demo's rollout plan")
# The simulated recent traffic: v2 clearly worse than the gate's default margins allow.
# Few rows: every insert runs the calls' dual-write trigger (a few ms each); the gate needs 100 per cohort.
TRAFFIC = {
    "v1_calls": 200,
    "v1_failed_pct": 2,
    "v1_latency_ms": 420,
    "v2_calls": 120,
    "v2_failed_pct": 8,
    "v2_latency_ms": 690,
}
DAMAGE_TEXT = "TODO: prompt lost in deploy 2024.06.1"

STEP_TITLES = (
    "v1 data (generated, messy)",
    "dry run: what would change",
    "migrate",
    "validate",
    f"rollout to {FIRST_PERCENTAGE} %",
    "status",
    "force one tenant on",
    "advance refused by the health gate",
    "rollback level tenant",
    "rollback level partial",
    "rollback level total",
    "rollback level data: restore a backup",
    "alembic downgrade to v1 + round-trip check",
    "upgrade again",
)


@dataclass(frozen=True)
class DemoSizes:
    """How much generated v1 data the demo migrates."""

    tenants: int = 100
    configs: int = 1_000
    calls: int = 200_000


DEFAULT_SIZES = DemoSizes()


class QuietProgress:
    """A progress reporter that shows nothing (the default when the caller gives none)."""

    def start_phase(self, phase: str, total: int | None) -> None:
        """Nothing to show."""

    def update(self, phase: str, done: int, total: int) -> None:
        """Nothing to show."""

    def finish_phase(self, phase: str, summary: str) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to stop."""


def _one(conn: Conn, query: str, params: Sequence[object] | dict[str, object] | None = None) -> object:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _count(value: object) -> int:
    assert isinstance(value, int)
    return value


@dataclass(frozen=True)
class _TableChecksum:
    rows: int
    md5: str


class Walk:
    """The state the steps share: the connection, what was measured before migrating, ids made on the way."""

    def __init__(self, settings: Settings, sizes: DemoSizes, progress: ProgressFactory) -> None:
        self.settings = settings
        self.sizes = sizes
        self.progress = progress
        self.conn = connect(settings, autocommit=True)
        self.v1_columns: dict[str, tuple[str, ...]] = {}
        self.v1_before: dict[str, _TableChecksum] = {}
        self.migrate_backup: str | None = None
        self.pilot_backup: str | None = None
        self.forced_tenant = ""

    def close(self) -> None:
        """Close the walk's connection."""
        self.conn.close()

    def steps(self) -> tuple[Callable[[], list[str]], ...]:
        """The steps, in the order of :data:`STEP_TITLES`."""
        return (
            self.seed,
            self.dry_run,
            self.migrate,
            self.validate,
            self.first_rollout_step,
            self.status,
            self.force_tenant,
            self.refused_advance,
            self.tenant_rollback,
            self.partial_rollback,
            self.total_rollback,
            self.data_restore,
            self.downgrade,
            self.upgrade_again,
        )

    # --- 0. the server ---------------------------------------------------------------------------

    def server_lines(self, *, throwaway: bool) -> list[str]:
        """Where the demo runs; refuses a database that is not empty."""
        self._require_empty_database()
        version = _one(self.conn, "SELECT current_setting('server_version')")
        lines = [f"PostgreSQL {version} at {self.settings.redacted_url}"]
        if throwaway:
            data = _one(self.conn, "SELECT current_setting('data_directory')")
            lines.append(f"data directory {data} (removed at the end, also on Ctrl-C; --keep leaves it)")
        else:
            lines.append("the demo's rows stay in this database afterwards")
        lines.append("notifications (Slack, e-mail) are off for the demo: its rollbacks are rehearsals")
        return lines

    def _require_empty_database(self) -> None:
        revision = revisions.current_revision(self.conn)
        has_tenants = _one(self.conn, "SELECT to_regclass('public.tenants') IS NOT NULL")
        if revision not in (None, revisions.BASELINE_REVISION) or (revision is None and has_tenants):
            raise OperationRefused(
                f"the demo needs an empty database, and {self.settings.redacted_url} is at Alembic revision "
                f"{revision or 'none, with a tenants table'}; create a fresh one (e.g. `createdb voice_demo`) "
                "and point --database-url at it, or leave DATABASE_URL unset for a throwaway server"
            )

    # --- 1. v1 data --------------------------------------------------------------------------------

    def seed(self) -> list[str]:
        """Create the v1 schema, generate messy v1 rows, and take the v1 checksums for the round trip."""
        revisions.upgrade(self.settings, revisions.BASELINE_REVISION)
        sizes = self.sizes
        seeded = seed_v1(
            self.conn, SeedSpec(tenants=sizes.tenants, configs=sizes.configs, calls=sizes.calls, messy=True)
        )
        for table in V1_TABLES:
            self.v1_columns[table] = tuple(c.name for c in backup.columns_of(self.conn, "public", table))
            self.v1_before[table] = self._v1_checksum(table, keys_from=None)
        return [
            f"{seeded.tenants:,} tenants, {seeded.configs:,} configs, {seeded.calls:,} calls in {seeded.seconds:.1f} s "
            "(sql/seed/seed_v1.sql, set-based)",
            "messy on purpose: empty prompts, no voice_id, languages like 'español' or 'klingon', orphans, "
            "legacy outcomes",
            "checksums of every v1 column of every row taken, for the round trip at the end",
        ]

    def _v1_checksum(self, table: str, *, keys_from: str | None) -> _TableChecksum:
        """Rows and checksum of ``table``'s v1 columns; only the rows whose id is in ``keys_from`` when given."""
        live = sql.Identifier("public", table)
        keys = None if keys_from is None else sql.Identifier(backup.SCHEMA, keys_from)
        with self.conn.transaction():
            backup.canonical_text(self.conn)
            rows, md5 = backup.checksum(self.conn, live, self.v1_columns[table], "id", keys)
        return _TableChecksum(rows, md5)

    def _rows(self, table: str) -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", table))
        row = self.conn.execute(query).fetchone()
        assert row is not None
        return _count(row[0])

    # --- 2. dry run --------------------------------------------------------------------------------

    def dry_run(self) -> list[str]:
        """``migrate --dry-run --tenant-ids ...`` on a few tenants: the real SQL, rolled back.

        A dry run does all the work of the migration and rolls it back, so over every tenant it takes
        as long as the migration itself; the runbook's per-tenant dry run keeps the demo short.
        """
        tenants = self._tenant_sample(DRY_RUN_TENANTS)
        result = run_migration(
            self.settings,
            MigrationOptions(dry_run=True, tenant_ids=tenants),
            reporter=QuietProgress(),
        )
        would = {s.name: s.rows for s in result.steps}
        after = revisions.current_revision(self.conn)
        lines = [
            f"voice-migration migrate --dry-run --tenant-ids {tenants[0]},... ({len(tenants)} of "
            f"{self.sizes.tenants} tenants)",
            f"would migrate {would.get('transform configs', 0):,} configs, update {would.get('infer outcomes', 0):,} "
            f"calls, generate {would.get('metrics', 0):,} metrics rows; would quarantine {result.quarantined:,} rows",
            f"would apply {', '.join(result.plan.revisions_to_apply)} after a backup",
            *_quarantine_lines(result, "would quarantine"),
            f"rolled back: the database is still at {after} ({result.seconds:.1f} s)",
        ]
        if after != revisions.BASELINE_REVISION:
            raise CheckFailed(f"the dry run left the database at revision {after}: it must change nothing")
        return lines

    def _tenant_sample(self, count: int) -> tuple[str, ...]:
        rows = self.conn.execute("SELECT id FROM tenants ORDER BY id LIMIT %s", (count,)).fetchall()
        return tuple(str(row[0]) for row in rows)

    # --- 3. migrate --------------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """``voice-migration migrate --yes`` (the policy's batch size): backup, revisions, phases, verify."""
        result = run_migration(self.settings, MigrationOptions(), reporter=self.progress())
        self.migrate_backup = result.backup_id
        lines = ["voice-migration migrate --yes"]
        lines += [f"{s.name:<18} {s.detail or f'{s.rows:,} rows'} ({s.seconds:.1f} s)" for s in result.steps]
        lines += _quarantine_lines(result, "quarantined (v1 rows kept, reason recorded)")
        lines.append(
            f"schema {result.plan.current_revision} -> {result.final_revision}; {result.rows:,} rows in "
            f"{result.seconds:.1f} s ({result.rate:,.0f} rows/s); verification "
            + ("passed" if result.verified else "FAILED")
        )
        if not result.verified:
            raise CheckFailed("the demo's migration did not verify; run `voice-migration validate` on it to see why")
        return lines

    # --- 4. validate -------------------------------------------------------------------------------

    def validate(self) -> list[str]:
        """``voice-migration validate``: every check of ``sql/validation/``."""
        report = run_validation(self.conn)
        if not report.ok:
            names = ", ".join(r.check.name for r in report.blocking)
            raise CheckFailed(f"validation failed after the demo's migration ({names}); run `voice-migration validate`")
        return [
            f"voice-migration validate: {len(report.results)} checks, {report.passed} passed, {report.warnings} "
            f"warnings (known v1 damage and what v1 allowed), {report.failed} failed: exit 0",
            *_finding_lines(report),
        ]

    # --- 5-7. rollout ------------------------------------------------------------------------------

    def first_rollout_step(self) -> list[str]:
        """``voice-migration rollout set-percentage 5``."""
        change = flags.update_rollout_percentage(
            self.conn, FIRST_PERCENTAGE, OPERATOR, reason="demo: first step of the plan"
        )
        in_v2 = self._tenants_in_v2()
        return [
            f"voice-migration rollout set-percentage {FIRST_PERCENTAGE} --by {OPERATOR}: "
            f"{change.describe(new=False)} -> {change.describe(new=True)}",
            f"{len(in_v2)} of {self.sizes.tenants} tenants in v2 (bucket < {FIRST_PERCENTAGE}): "
            + _tenant_list([f"{tenant} (bucket {bucket})" for tenant, bucket in in_v2]),
        ]

    def _tenants_in_v2(self) -> list[tuple[str, int]]:
        rows = self.conn.execute(read_sql("demo/tenants_in_v2.sql").encode()).fetchall()
        return [(str(tenant), _count(bucket)) for tenant, bucket in rows]

    def status(self) -> list[str]:
        """``voice-migration rollout status``."""
        state = flags.get_rollout_status(self.conn)
        sample = self._tenant_sample(1)[0]
        return [
            f"master switch {'on' if state.enabled else 'off'}, {state.percentage} %: "
            f"{state.tenants_in_v2:,} of {state.total_tenants:,} tenants in v2",
            f"overrides: {state.overrides_enabled} forced into v2, {state.overrides_disabled} kept on v1",
            f"last 24 h: {state.v1.describe()}; {state.v2.describe()} (the generated calls are older)",
            f"application check: should_use_voice_agent_v2({sample!r}) = "
            f"{flags.should_use_voice_agent_v2(self.conn, sample)} (bucket {flags.bucket(sample)})",
        ]

    def force_tenant(self) -> list[str]:
        """Back the tenant up, then ``voice-migration rollout enable-tenant T``: a pilot outside the percentage."""
        # A tenant outside the percentage and not held on v1 (a held one is refused without --force).
        outside = self.conn.execute(
            "SELECT t.id FROM tenants AS t WHERE NOT voice_agent_v2_enabled(t.id) AND NOT EXISTS "
            "(SELECT FROM voice_agent_v2_held_tenants AS h WHERE h.tenant_id = t.id) ORDER BY t.id LIMIT 1"
        ).fetchone()
        self.forced_tenant = str(outside[0]) if outside else self._tenant_sample(1)[0]
        tenant = self.forced_tenant
        taken = backup.create_backup(self.conn, [tenant], kind="manual")
        self.pilot_backup = taken.backup_id
        change = flags.enable_tenant_for_v2(self.conn, tenant, OPERATOR, reason="demo: pilot customer")
        return [
            f"voice-migration backups create --tenant-ids {tenant} -> {taken.backup_id} "
            f"({taken.configs_count:,} configs, {taken.calls_count:,} calls): its migrated state, before v2",
            f"voice-migration rollout enable-tenant {tenant} --by {OPERATOR}",
            f"{tenant} (bucket {flags.bucket(tenant)}, not below {FIRST_PERCENTAGE} %): "
            f"{change.describe_value(change.old)} -> {change.describe_value(change.new)}",
            f"now {len(self._tenants_in_v2())} of {self.sizes.tenants} tenants in v2",
        ]

    def refused_advance(self) -> list[str]:
        """Simulated recent traffic where v2 is worse, then ``rollout advance``: refused, with the evidence."""
        self.conn.execute(read_sql("demo/simulated_traffic.sql"), TRAFFIC)
        t = TRAFFIC
        result = rollout.advance(self.conn, OPERATOR, plan=DEMO_PLAN, policy=HealthPolicy())
        lines = [
            f"SIMULATED by the demo (sql/demo/simulated_traffic.sql): {t['v1_calls']} v1 and {t['v2_calls']} v2 calls "
            "in the last hour, the v2 ones failing more often and answering slower",
            f"voice-migration rollout advance --by {OPERATOR} (demo plan {DEMO_PLAN.describe()}: no hold times, "
            "so only health decides)",
            *(f"[{'ok' if c.passed else 'FAILED'}] {c.name}: {c.evidence}" for c in result.checks),
        ]
        if result.advanced:
            raise CheckFailed("the health gate let a worse v2 cohort through: the rollout should have been refused")
        state = flags.get_rollout_status(self.conn)
        lines.append(f"refused: the rollout stays at {state.percentage} % (exit 1 from the command)")
        return lines

    # --- 8-10. rollback levels ---------------------------------------------------------------------

    def tenant_rollback(self) -> list[str]:
        """``voice-migration rollback --level tenant --tenant-id T``."""
        tenant = self.forced_tenant
        change = rollout.rollback_tenant(self.conn, tenant, OPERATOR, reason="demo: v2 errors for this tenant")
        return [
            f"voice-migration rollback --level tenant --tenant-id {tenant}",
            f"{tenant}: {change.describe_value(change.old)} -> {change.describe_value(change.new)}; "
            f"should_use_voice_agent_v2 = {flags.should_use_voice_agent_v2(self.conn, tenant)}",
            f"now {len(self._tenants_in_v2())} of {self.sizes.tenants} tenants in v2",
        ]

    def partial_rollback(self) -> list[str]:
        """``voice-migration rollback --level partial --target-percentage 2``: fewer tenants, never new ones."""
        before = {tenant for tenant, _ in self._tenants_in_v2()}
        change = rollout.rollback_partial(self.conn, PARTIAL_PERCENTAGE, OPERATOR, reason="demo: fewer tenants")
        after = {tenant for tenant, _ in self._tenants_in_v2()}
        if not after <= before:
            raise CheckFailed(f"a partial rollback put tenants into v2: {', '.join(sorted(after - before))}")
        return [
            f"voice-migration rollback --level partial --target-percentage {PARTIAL_PERCENTAGE}",
            f"{change.describe(new=False)} -> {change.describe(new=True)}: tenants in v2 {len(before)} -> "
            f"{len(after)}, none added",
        ]

    def total_rollback(self) -> list[str]:
        """``voice-migration rollback --level total --reason R``, and the audit trail of the whole rollout."""
        reason = "demo: v2 error rate above v1"
        change = rollout.rollback_total(self.conn, reason, OPERATOR)
        in_v2 = len(self._tenants_in_v2())
        history = rollout.rollout_history(self.conn, limit=100)
        actions = [entry.action for entry in reversed(history)]
        return [
            f'voice-migration rollback --level total --reason "{reason}"',
            f"{change.describe(new=False)} -> {change.describe(new=True)}: {in_v2} tenants in v2; the percentage "
            "and overrides are kept for the record",
            f"audit trail (voice_agent_v2_flag_audit): {len(history)} changes: {', '.join(actions)}",
        ]

    # --- 11. data restore --------------------------------------------------------------------------

    def data_restore(self) -> list[str]:
        """A simulated bad write to the pilot tenant's prompts, then ``rollback --level data`` from its backup.

        The backup is the pilot tenant's, taken before it was forced into v2: restoring the whole
        migrate backup works the same way but rewrites every row (the v2 columns of all calls).
        """
        assert self.pilot_backup is not None
        tenant = self.forced_tenant
        damaged = _count(
            _one(self.conn, read_sql("demo/simulated_damage.sql"), {"tenant_id": tenant, "placeholder": DAMAGE_TEXT})
        )
        result = restore_backup(self.conn, self.pilot_backup)
        left = _count(_one(self.conn, "SELECT count(*) FROM voice_agent_configs WHERE prompt = %s", (DAMAGE_TEXT,)))
        if left:
            raise CheckFailed(f"the data restore left {left} damaged prompts")
        changed = ", ".join(f"{t.table} {t.changed:,}" for t in result.tables if t.changed) or "none"
        return [
            f"SIMULATED by the demo (sql/demo/simulated_damage.sql): a bad write replaced the prompt of {damaged} "
            f"config{'' if damaged == 1 else 's'} of {tenant}",
            f"voice-migration rollback --level data --backup-id {self.pilot_backup} --yes",
            f"rows put back: {changed}; {result.newer_total:,} rows created after the backup kept (simulated "
            "calls): a restore never deletes newer rows",
            f"damaged prompts left: {left}; the state before the restore is in safety backup {result.safety_backup_id}",
        ]

    # --- 12. downgrade -----------------------------------------------------------------------------

    def downgrade(self) -> list[str]:
        """``alembic downgrade 0001_v1_baseline``, then the v1 columns of every row against the checksums."""
        assert self.migrate_backup is not None
        printed = revisions.downgrade(self.settings, revisions.BASELINE_REVISION)
        lines = [f"alembic downgrade {revisions.BASELINE_REVISION}"]
        lines += [line.strip() for line in printed.splitlines() if line.strip()]
        lines.append(
            f"round trip: v1 columns now vs before migrating (rows that existed then, per {self.migrate_backup})"
        )
        failed = []
        for table in V1_TABLES:
            before = self.v1_before[table]
            copy = next(t for t in backup.TABLES if t.source == table).backup_table(self.migrate_backup)
            now = self._v1_checksum(table, keys_from=copy)
            same = now == before
            failed += [] if same else [table]
            added = self._rows(table) - now.rows
            lines.append(
                f"[{'ok' if same else 'FAILED'}] {table}: {now.rows:,} rows, md5 {now.md5[:12]} "
                f"{'==' if same else '!='} {before.md5[:12]}"
                + (f"; {added:,} rows written since, kept" if added else "")
            )
        if failed:
            raise CheckFailed(
                f"round-trip check failed: the v1 columns of {', '.join(failed)} differ from before the migration"
            )
        return lines

    # --- 13. upgrade again -------------------------------------------------------------------------

    def upgrade_again(self) -> list[str]:
        """``alembic upgrade head``: the schema and the backfill again, in the revision (no progress bars)."""
        began = time.perf_counter()
        revisions.upgrade(self.settings, "head")
        seconds = time.perf_counter() - began
        row = self.conn.execute(read_sql("demo/v2_counts.sql").encode()).fetchone()
        assert row is not None
        configs, configs_v2, quarantined, calls, with_outcome, metrics = (_count(v) for v in row)
        state = flags.get_rollout_status(self.conn)
        return [
            f"alembic upgrade head: now at {revisions.current_revision(self.conn)} in {seconds:.1f} s "
            "(the backfill runs inside revision 0004)",
            f"configs in v2 {configs_v2:,} of {configs:,} ({quarantined:,} quarantined), calls with an outcome "
            f"{with_outcome:,} of {calls:,}, metrics rows {metrics:,}",
            f"rollout flags start over: {state.percentage} %, master switch {'on' if state.enabled else 'off'} "
            "(the old ones are archived in voice_migration.downgrade_archive_v2_*)",
        ]


def _quarantine_lines(result: MigrationResult, verb: str) -> list[str]:
    if not result.quarantine:
        return []
    groups = ", ".join(f"{g.entity} {g.reason} {g.count:,}" for g in result.quarantine)
    return [f"{verb}: {groups}"]


def _finding_lines(report: ValidationReport) -> list[str]:
    return [
        f"{r.check.name}: {', '.join(f'{n:,} {severity}' for severity, n in r.counts.items())}"
        for r in report.results
        if r.violations
    ]


def _tenant_list(tenants: Sequence[str], shown: int = 5) -> str:
    if not tenants:
        return "none"
    more = f" and {len(tenants) - shown} more" if len(tenants) > shown else ""
    return ", ".join(tenants[:shown]) + more
