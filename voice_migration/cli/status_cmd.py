"""``voice-migration status``: where are we? Revision, backfill, quarantine, flags, held tenants, latest backup."""

from __future__ import annotations

import click

from voice_migration import command
from voice_migration.cli.backups_cmd import describe_backup
from voice_migration.cli.common import database_url_option, echo_json, format_option, handle_errors, settings_from
from voice_migration.cli.rollout_cmd import render_status
from voice_migration.status import MigrationStatus, PhaseProgress, status_dict

_REVISION_STATES = {
    "none": "no Alembic revision: adopt a v1 database with `alembic stamp 0001_v1_baseline`",
    "head": "head",
    "behind": "behind head: `voice-migration migrate` (or `alembic upgrade head`) applies {pending}",
    "sunset": "v1 sunset applied (the contract step; `alembic -n sunset ...` manages it)",
    "unknown": "not a revision of this version: is the tool older than the database?",
}

_DONE = {
    "configs": "configs in v2 shape",
    "calls": "calls with an outcome code",
    "metrics": "configs with calls have metrics",
}


@click.command("status")
@format_option
@database_url_option
@handle_errors
def status_command(output_format: str, database_url: str | None) -> None:
    """Where are we? Revision, backfill per phase, quarantine, flags, held tenants, latest backup (read-only)."""
    status = command.migration_status(settings_from(database_url))
    if output_format == "json":
        echo_json(status_dict(status))
        return
    click.echo(render_text(status))


def render_text(status: MigrationStatus) -> str:
    """The status for a person: one block per part, ``not yet`` where the schema lacks it."""
    title = f"voice-migration status of {status.database} at {status.checked_at:%Y-%m-%d %H:%M:%S %Z}"
    revision = status.revision
    state = _REVISION_STATES[revision.state].format(pending=", ".join(revision.pending))
    lines = [title, "=" * len(title), f"Revision: {revision.current or 'none'} ({state})", "", "Backfill:"]
    if status.phases is None:
        lines.append("  not started: the v2 columns come with revision 0003_v2_expand")
    else:
        lines += [_phase_line(phase) for phase in status.phases]
    lines += ["", "Quarantine:"]
    if status.quarantine is None:
        lines.append("  no quarantine table yet (revision 0003_v2_expand)")
    elif not status.quarantine:
        lines.append("  empty")
    else:
        lines += [f"  {q.entity} {q.reason}: {q.count:,}" for q in status.quarantine]
    lines += [""]
    if status.rollout is None:
        lines.append("Rollout: no flag tables yet (revision 0002_v2_flags)")
    else:
        lines += render_status(status.rollout).splitlines()
    lines += [""]
    held = status.held_tenants
    if held is None:
        lines.append("Held tenants: not tracked by this schema (revision 0008_quarantine_hold)")
    elif not held.tenants:
        lines.append("Held tenants: none")
    else:
        since = f", oldest since {held.oldest_since:%Y-%m-%d %H:%M %Z}" if held.oldest_since else ""
        lines.append(
            f"Held tenants: {held.tenants:,} kept on v1 by {held.configs:,} configs not in v2 shape{since}; "
            f"e.g. {', '.join(held.examples)}"
        )
    latest = status.latest_backup
    lines.append(
        "Latest backup: none (`voice-migration backups create`; `migrate` takes one first)"
        if latest is None
        else f"Latest backup: {describe_backup(latest)} ({status.backups:,} in all)"
    )
    return "\n".join(lines)


def _phase_line(phase: PhaseProgress) -> str:
    line = f"  {phase.phase:<8} {phase.done:,} / {phase.total:,} {_DONE.get(phase.phase, 'done')} ({phase.percent:g} %)"
    if phase.kept_in_v1:
        line += f", {phase.kept_in_v1:,} kept in v1 by quarantine"
    whole = next((p for p in phase.passes if p.scope == "*"), None)
    if whole is not None:
        when = (
            f"finished {whole.finished_at:%Y-%m-%d %H:%M %Z}"
            if whole.finished_at
            else f"in progress, last batch {whole.updated_at:%Y-%m-%d %H:%M:%S %Z}"
        )
        line += f"; last pass over all tenants {when} ({whole.batches:,} batches, {whole.rows_changed:,} rows changed)"
    elif not phase.passes:
        line += "; no pass yet"
    scoped = len(phase.passes) - (whole is not None)
    if scoped:
        line += f"; {scoped:,} tenant-scoped pass{'es' if scoped > 1 else ''}"
    return line
