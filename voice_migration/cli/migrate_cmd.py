"""``voice-migration migrate``: parse options, confirm, run the migration, print the outcome."""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from voice_migration import command
from voice_migration.cli.common import (
    NOTIFY,
    database_url_option,
    format_option,
    handle_errors,
    settings_from,
    warns_about_notification_setup,
)
from voice_migration.cli.confirm import confirm
from voice_migration.cli.output import LOG_FORMATS, LogFormat, setup_output
from voice_migration.infra.errors import CheckFailed, OperationRefused
from voice_migration.migration.run import (
    MigrationOptions,
    MigrationPlan,
    MigrationResult,
)
from voice_migration.migration.scope import parse_tenant_ids

log = logging.getLogger(__name__)
RESUME_HINT = "run the same command again to resume where it stopped"


class StopFlag:
    """Set by the first Ctrl-C: the run stops after the current batch. A second Ctrl-C aborts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested


@contextmanager
def stop_on_ctrl_c(flag: StopFlag) -> Iterator[None]:
    """Turn the first SIGINT into a stop request, restore the handler afterwards."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True
        log.warning("Ctrl-C: stopping after the current batch (press Ctrl-C again to abort now)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def render_plan(plan: MigrationPlan) -> str:
    """What is about to happen, shown before the confirmation."""
    lines = [f"{'Dry run' if plan.dry_run else 'Migration'} of {plan.database} ({plan.scope})"]
    if plan.revisions_to_apply:
        lines.append(f"  revisions to apply: {', '.join(plan.revisions_to_apply)} (after the backup)")
    else:
        lines.append(f"  schema: at {plan.current_revision} (head)")
    if plan.pending is not None:
        pending = ", ".join(f"{plan.phase_steps.get(p, p)} {n:,}" for p, n in plan.pending.items())
        lines.append(f"  pending rows: {pending}")
    lines.append("  backup: " + ("SKIPPED (--skip-backup)" if plan.skip_backup else "taken first"))
    return "\n".join(lines)


def render_summary(result: MigrationResult) -> str:
    """The closing summary: counts per step, quarantine, wall time, rate, backup id."""
    plan = result.plan
    title = "Dry run — nothing was changed" if plan.dry_run else "Migration summary"
    if result.interrupted:
        title += " (stopped by the operator)"
    lines = [title, "=" * len(title)]
    lines += [f"  {s.name:<18} {s.detail or f'{s.rows:,} rows':<60} {s.seconds:7.1f} s" for s in result.steps]
    if plan.dry_run:
        would = {s.name: s.rows for s in result.steps}
        lines.append(
            f"  would change: configs to migrate {would.get('transform configs', 0):,}, "
            f"calls to update {would.get('infer outcomes', 0):,}, metrics to generate {would.get('metrics', 0):,}"
        )
    if result.preflight is not None:
        findings = [r for r in result.preflight.results if r.violations]
        lines.append("  v1 data-quality findings:" + ("" if findings else " none"))
        for finding in findings:
            counts = ", ".join(f"{n:,} {severity}" for severity, n in finding.counts.items())
            lines.append(f"    {finding.check.name}: {counts}")
    if result.quarantine:
        verb = "would be quarantined" if plan.dry_run else "quarantined"
        lines.append(f"  {verb}: {result.quarantined:,} entries (a row may have several reasons)")
        for group in result.quarantine:
            examples = ", ".join(f"{i} ({d})" for i, d in group.examples)
            lines.append(f"    {group.entity} {group.reason}: {group.count:,} — e.g. {examples}")
    else:
        lines.append("  quarantined: none")
    for sample in result.samples:
        lines.append(f"  sample {sample.id}:")
        lines.append(
            f"    before (v1): language={sample.language} voice_id={sample.voice_id} prompt={sample.prompt_start!r}"
        )
        lines.append(
            f"    after  (v2): assistant_type={sample.assistant_type} voice_config={sample.voice_config} "
            f"capabilities={sample.capabilities} personality={sample.personality}"
        )
    if result.verification is not None:
        status = (
            "passed"
            if result.verification.ok
            else f"FAILED: {', '.join(r.check.name for r in result.verification.blocking)}"
        )
        lines.append(f"  verification: {status}")
    lines.append(f"  schema: {plan.current_revision} -> {result.final_revision}")
    lines.append(f"  wall time: {result.seconds:.1f} s, {result.rows:,} rows, {result.rate:,.0f} rows/s")
    if not plan.dry_run:
        lines.append(f"  backup id: {result.backup_id or 'none (--skip-backup)'}")
    if not plan.dry_run and not result.interrupted:
        lines.append("  the v2 flag is unchanged: turn v2 on with `voice-migration rollout ...`")
    return "\n".join(lines)


def summary_document(result: MigrationResult) -> dict[str, object]:
    """The closing summary as JSON (``--format json``; docs/schemas/migrate-summary.schema.json)."""
    plan = result.plan
    verification = result.verification
    return {
        "schema_version": 1,
        "command": "migrate",
        "dry_run": plan.dry_run,
        "ok": not result.interrupted and (verification is None or verification.ok),
        "interrupted": result.interrupted,
        "database": plan.database,
        "tenant_ids": None if plan.tenant_ids is None else list(plan.tenant_ids),
        "revision": {
            "before": plan.current_revision,
            "after": result.final_revision,
            "to_apply": list(plan.revisions_to_apply),
        },
        "steps": [
            {"name": s.name, "rows": s.rows, "seconds": round(s.seconds, 3), "detail": s.detail} for s in result.steps
        ],
        "preflight": None
        if result.preflight is None
        else [{"check": r.check.name, "by_severity": dict(r.counts)} for r in result.preflight.results if r.violations],
        "quarantine": [
            {
                "entity": g.entity,
                "reason": g.reason,
                "count": g.count,
                "examples": [{"id": i, "detail": d} for i, d in g.examples],
            }
            for g in result.quarantine
        ],
        "quarantined": result.quarantined,
        "verification": None
        if verification is None
        else {"ok": verification.ok, "failed": [r.check.name for r in verification.blocking]},
        "backup_id": result.backup_id,
        "rows": result.rows,
        "seconds": round(result.seconds, 3),
        "rows_per_second": round(result.rate, 1),
    }


@click.command("migrate")
@click.option(
    "--dry-run", is_flag=True, help="Run the real SQL in a transaction, roll it back, print what would change."
)
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help="Rows per batch (1-100000; default: the database's voice_migration.backfill_policy(), 5000).",
)
@click.option("--tenant-ids", "tenant_ids", metavar="A,B", default=None, help="Only these tenants (default: all).")
@click.option("--skip-backup", is_flag=True, help="Do not take a backup first (not recommended).")
@click.option(
    "--backup-to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also export the backup to DIR/BACKUP_ID/ right after taking it (as `backups export`).",
)
@click.option("--verbose", "-v", is_flag=True, help="Per-batch logs; with --dry-run, a before/after sample.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text", show_default=True)
@format_option
@database_url_option
@handle_errors
@warns_about_notification_setup
def migrate_command(
    dry_run: bool,
    batch_size: int | None,
    tenant_ids: str | None,
    skip_backup: bool,
    backup_to: Path | None,
    verbose: bool,
    yes: bool,
    log_format: LogFormat,
    output_format: str,
    database_url: str | None,
) -> None:
    """Migrate v1 to v2: validate v1, back up, transform configs, infer outcomes, metrics, verify."""
    options = MigrationOptions(
        dry_run=dry_run,
        batch_size=batch_size,
        tenant_ids=None if tenant_ids is None else tuple(parse_tenant_ids(tenant_ids) or ()),
        skip_backup=skip_backup,
        verbose=verbose,
        backup_to=backup_to,
    )
    options.validate()
    settings = settings_from(database_url)
    reporter = setup_output(verbose=verbose, log_format=log_format, interactive=sys.stderr.isatty())
    if skip_backup and not dry_run:
        warning = (
            "WARNING: --skip-backup: no backup will be taken; if this migration goes wrong, "
            "`rollback --level data` will have nothing to restore."
        )
        if log_format == "json":
            log.warning(warning)
        else:
            click.secho(warning, err=True, fg="red", bold=True)

    def confirm_plan(plan: MigrationPlan) -> None:
        if log_format == "json":  # a log shipper gets the plan as one JSON record too
            log.info(" | ".join(line.strip() for line in render_plan(plan).splitlines()), extra={"event": "plan"})
        else:
            click.echo(render_plan(plan), err=True)
        if not plan.dry_run:  # a dry run changes nothing: nothing to confirm
            confirm(f"migrate {plan.scope} to v2", yes=yes)

    flag = StopFlag()
    with stop_on_ctrl_c(flag):
        result = command.migrate(
            settings, options, confirm=confirm_plan, progress=reporter, should_stop=flag, notify=NOTIFY
        )
    click.echo(json.dumps(summary_document(result), indent=2) if output_format == "json" else render_summary(result))
    if result.interrupted:
        raise OperationRefused(f"migrate was stopped by the operator after the current batch; {RESUME_HINT}")
    if result.verification is not None and not result.verification.ok:
        names = ", ".join(r.check.name for r in result.verification.blocking)
        raise CheckFailed(
            f"the migration ran but verification failed ({names}); see `voice-migration validate` for the rows, "
            "fix them (`validate --fix` repairs the safe cases) and run migrate again"
        )
