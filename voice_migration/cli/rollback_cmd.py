"""``voice-migration rollback``: the runbook's rollback levels (section 7; DESIGN.md section 5).

``tenant``, ``partial`` and ``total`` change the feature flags (``voice_migration.rollout.changes``); ``data``
and ``--list-backups`` are the backup module's (``voice_migration.cli.backups_cmd``).
"""

from __future__ import annotations

import getpass
import os

import click

from voice_migration import command
from voice_migration.cli.common import (
    NOTIFY,
    database_url_option,
    echo_json,
    format_option,
    handle_errors,
    settings_from,
    warns_about_notification_setup,
)
from voice_migration.cli.rollout_cmd import OPERATOR_ENV, describe_flag_change, describe_override_change
from voice_migration.infra.errors import UsageError
from voice_migration.rollout import changes as rollout
from voice_migration.rollout.state import FlagChange, OverrideChange

# Which options each level takes; anything else is refused, so that e.g. `--level total --tenant-id X`
# (someone believing it is per tenant) does not turn v2 off for everybody.
_LEVEL_OPTIONS = {
    "tenant": {"tenant_id", "reason"},
    "partial": {"target_percentage", "reason"},
    "total": {"reason"},
    "data": {"backup_id", "yes", "reason", "with_total_rollback", "delete_newer"},
}
_OPTION_NAMES = {
    "tenant_id": "--tenant-id",
    "target_percentage": "--target-percentage",
    "reason": "--reason",
    "backup_id": "--backup-id",
    "yes": "--yes",
    "with_total_rollback": "--with-total-rollback",
    "delete_newer": "--delete-newer",
}


@click.command("rollback")
@click.option(
    "--level",
    type=click.Choice(["tenant", "partial", "total", "data"]),
    default=None,
    help="tenant: one tenant back to v1; partial: lower the percentage; total: v2 off; data: restore a backup.",
)
@click.option("--tenant-id", default=None, help="--level tenant: the tenant to put back on v1.")
@click.option(
    "--target-percentage", type=click.IntRange(0, 100), default=None, help="--level partial: the new, lower percentage."
)
@click.option("--reason", default=None, help="Why (required for --level total); kept in the audit.")
@click.option("--backup-id", default=None, help="--level data: the backup to restore (backup_YYYYMMDD_HHMMSS).")
@click.option("--yes", is_flag=True, help="--level data: do not ask for confirmation.")
@click.option(
    "--with-total-rollback",
    is_flag=True,
    help="--level data: first turn v2 off for every tenant (audited with --reason), then restore.",
)
@click.option(
    "--delete-newer",
    is_flag=True,
    help="--level data: also delete the rows created after the backup (they go into the safety backup first).",
)
@click.option("--list-backups", is_flag=True, help="List the backups a data rollback can restore.")
@click.option(
    "--by",
    metavar="WHO",
    envvar=OPERATOR_ENV,
    show_envvar=True,
    default=None,
    help="Who rolls back, for the audit (default: your login name).",
)
@format_option
@database_url_option
@handle_errors
@warns_about_notification_setup
def rollback_command(
    level: str | None,
    tenant_id: str | None,
    target_percentage: int | None,
    reason: str | None,
    backup_id: str | None,
    yes: bool,
    with_total_rollback: bool,
    delete_newer: bool,
    list_backups: bool,
    by: str | None,
    output_format: str,
    database_url: str | None,
) -> None:
    """Roll back: one tenant, part of the rollout, all of it, or the data (runbook section 7)."""
    given = {
        name
        for name, value in {
            "tenant_id": tenant_id,
            "target_percentage": target_percentage,
            "reason": reason,
            "backup_id": backup_id,
            "yes": yes or None,
            "with_total_rollback": with_total_rollback or None,
            "delete_newer": delete_newer or None,
        }.items()
        if value is not None
    }
    if list_backups:
        if level is not None or given:
            raise UsageError("--list-backups takes no other option: run it on its own, then roll back")
        from voice_migration.cli.backups_cmd import print_backup_list

        print_backup_list(database_url, output_format)
        return
    if level is None:
        raise UsageError("say what to roll back: --level tenant|partial|total|data, or --list-backups")
    extra = sorted(_OPTION_NAMES[name] for name in given - _LEVEL_OPTIONS[level])
    if extra:
        raise UsageError(f"--level {level} does not take {', '.join(extra)}; see `voice-migration rollback --help`")
    if level == "data":
        if backup_id is None:
            raise UsageError("--level data needs --backup-id ID; `voice-migration rollback --list-backups` lists them")
        from voice_migration.cli.backups_cmd import restore_from_cli

        restore_from_cli(
            database_url,
            backup_id,
            yes,
            output_format,
            with_total_rollback=with_total_rollback,
            delete_newer=delete_newer,
            by=by or login_name(),
            reason=reason,
        )
        return
    if level == "tenant" and tenant_id is None:
        raise UsageError("--level tenant needs --tenant-id T: the tenant to put back on v1")
    if level == "partial" and target_percentage is None:
        raise UsageError("--level partial needs --target-percentage N (lower than the current percentage)")
    if level == "total":
        rollout.require_reason(reason)
    who = by or login_name()
    settings = settings_from(database_url)
    change: FlagChange | OverrideChange
    if tenant_id is not None:
        change = command.rollback_tenant(settings, tenant_id, who, reason=reason, notify=NOTIFY)
    elif target_percentage is not None:
        change = command.rollback_partial(settings, target_percentage, who, reason=reason, notify=NOTIFY)
    else:
        change = command.rollback_total(settings, reason or "", who, notify=NOTIFY)
    if output_format == "json":  # docs/schemas/rollback.schema.json
        echo_json(
            {"schema_version": 1, "command": "rollback", "level": level, "change": change.as_dict(), "restore": None}
        )
    elif isinstance(change, OverrideChange):
        click.echo(describe_override_change(change))
    else:
        click.echo(describe_flag_change(change))


def login_name() -> str:
    """Who rolls back when neither ``--by`` nor ``$VOICE_MIGRATION_OPERATOR`` says: the login name.

    An emergency rollback must not fail for want of a name; the audit also records the database user.
    """
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. a container running as an unknown uid
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
