"""``voice-migration backups list|create|drop`` and the data-restore half of ``rollback``.

``rollback --level data`` and ``rollback --list-backups`` (in ``rollback_cmd.py``) call
:func:`restore_from_cli` and :func:`print_backup_list`.
"""

from __future__ import annotations

from datetime import timedelta

import click

from voice_migration.cli.common import database_url_option, echo_json, format_option, handle_errors, settings_from
from voice_migration.cli.confirm import confirm, confirm_by_typing
from voice_migration.infra.db import connect
from voice_migration.migration.backup import (
    BackupInfo,
    create_backup,
    drop_backup,
    get_backup,
    list_backups,
    validate_backup_id,
)
from voice_migration.migration.restore import RestorePlan, RestoreResult, TableRestore, plan_restore, restore_backup
from voice_migration.migration.scope import parse_tenant_ids


def human_size(size: int) -> str:
    """``1.2 MB``-style size."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_age(age: timedelta) -> str:
    """``2h ago``-style age, as in the runbook's listing."""
    seconds = max(int(age.total_seconds()), 0)
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def describe_backup(info: BackupInfo) -> str:
    """One line: id, counts, scope, size, kind and age."""
    return (
        f"{info.backup_id} ({info.configs_count:,} configs, {info.calls_count:,} calls; {info.scope}; "
        f"{human_size(info.size_bytes)}; {info.kind}; revision {info.alembic_revision or 'none'}) "
        f"- {human_age(info.age)}"
    )


def print_backup_list(database_url: str | None, output_format: str = "text") -> None:
    """Print every backup, newest first (``backups list`` and ``rollback --list-backups``)."""
    with connect(settings_from(database_url), autocommit=True) as conn:
        backups = list_backups(conn)
    if output_format == "json":  # docs/schemas/backups-list.schema.json
        echo_json({"schema_version": 1, "command": "backups list", "backups": [b.as_dict() for b in backups]})
        return
    click.echo("Available Backups\n=================")
    if not backups:
        click.echo("(none yet: `voice-migration backups create` makes one, and `migrate` makes one first)")
    for number, info in enumerate(backups, start=1):
        click.echo(f"{number}. {describe_backup(info)}")


def _table_line(table: TableRestore, verb: str) -> str:
    line = f"  {table.table}: {table.changed:,} rows {verb} to their backed-up values, {table.reinserted:,} re-inserted"
    if table.columns_reset:
        line += f"; columns the backup lacks reset to NULL: {', '.join(table.columns_reset)}"
    if table.columns_not_restored:
        line += f"; backed-up columns that no longer exist (not restored): {', '.join(table.columns_not_restored)}"
    return line


def _newer_lines(tables: tuple[TableRestore, ...]) -> list[str]:
    newer = [t for t in tables if t.newer]
    if not newer:
        return ["Rows created after the backup: none."]
    lines = ["Rows created after the backup are KEPT (a restore never deletes):"]
    for table in newer:
        more = ", ..." if table.newer > len(table.newer_sample) else ""
        lines.append(f"  {table.table}: {table.newer:,} ({', '.join(table.newer_sample)}{more})")
    return lines


def _print_plan(plan: RestorePlan, *, err: bool = False) -> None:
    info = plan.backup
    click.echo(f"Restore {describe_backup(info)}", err=err)
    click.echo("A safety backup of the current state of the same scope is taken first. Then:", err=err)
    for table in plan.tables:
        click.echo(_table_line(table, "return"), err=err)
    for skipped in plan.skipped_tables:
        click.echo(f"  {skipped}: no longer exists; its backed-up rows are not restored", err=err)
    for line in _newer_lines(plan.tables):
        click.echo(line, err=err)


def restore_dict(result: RestoreResult) -> dict[str, object]:
    """What a data restore did, as JSON (``rollback --level data --format json``)."""
    return {
        "backup_id": result.backup_id,
        "safety_backup_id": result.safety_backup_id,
        "seconds": round(result.seconds, 3),
        "tables": [
            {
                "table": t.table,
                "changed": t.changed,
                "reinserted": t.reinserted,
                "newer_kept": t.newer,
                "columns_reset": list(t.columns_reset),
                "columns_not_restored": list(t.columns_not_restored),
            }
            for t in result.tables
        ],
        "skipped_tables": list(result.skipped_tables),
    }


def _print_result(result: RestoreResult) -> None:
    click.echo(f"Restored {result.backup_id} in {result.seconds:.1f} s; checksums verified.")
    for table in result.tables:
        click.echo(_table_line(table, "returned"))
    for line in _newer_lines(result.tables):
        click.echo(line)
    click.echo(
        f"Safety backup of the state before: {result.safety_backup_id} "
        f"(undo with: voice-migration rollback --level data --backup-id {result.safety_backup_id})"
    )


def restore_from_cli(database_url: str | None, backup_id: str, yes: bool, output_format: str = "text") -> None:
    """``rollback --level data --backup-id ID [--yes]``: show the plan, make the operator type the id, restore.

    A malformed id is refused before connecting. With no TTY and no ``--yes`` it refuses (exit 1).
    With ``--format json`` the plan goes to stderr (it is for the person confirming) and the result,
    as JSON, to stdout.
    """
    validate_backup_id(backup_id)
    as_json = output_format == "json"
    with connect(settings_from(database_url), autocommit=True) as conn:
        _print_plan(plan_restore(conn, backup_id), err=as_json)
        confirm_by_typing(f"restore {backup_id} (destructive)", backup_id, yes=yes)
        result = restore_backup(conn, backup_id)
    if as_json:
        echo_json(
            {
                "schema_version": 1,
                "command": "rollback",
                "level": "data",
                "change": None,
                "restore": restore_dict(result),
            }
        )
        return
    _print_result(result)


@click.group("backups")
def backups_group() -> None:
    """Backups inside the database (schema voice_migration): list, create, drop."""


@backups_group.command("list")
@format_option
@database_url_option
@handle_errors
def list_command(output_format: str, database_url: str | None) -> None:
    """List the backups, newest first: id, counts, scope, size, age."""
    print_backup_list(database_url, output_format)


@backups_group.command("create")
@click.option("--tenant-ids", "tenant_ids", metavar="A,B", default=None, help="Back up only these tenants.")
@database_url_option
@handle_errors
def create_command(tenant_ids: str | None, database_url: str | None) -> None:
    """Copy tenants, configs, calls (and metrics) into a new backup_YYYYMMDD_HHMMSS."""
    scope = parse_tenant_ids(tenant_ids)
    with connect(settings_from(database_url), autocommit=True) as conn:
        info = create_backup(conn, scope)
    click.echo(f"created {describe_backup(info)}")


@backups_group.command("drop")
@click.argument("backup_id")
@click.option("--force", is_flag=True, help="Allow dropping the newest backup.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@database_url_option
@handle_errors
def drop_command(backup_id: str, force: bool, yes: bool, database_url: str | None) -> None:
    """Drop a backup's tables and manifest row to free space (asks first)."""
    validate_backup_id(backup_id)
    with connect(settings_from(database_url), autocommit=True) as conn:
        click.echo(f"Drop {describe_backup(get_backup(conn, backup_id))}")
        confirm(f"drop backup {backup_id}", yes=yes)
        result = drop_backup(conn, backup_id, force=force)
    click.echo(f"dropped {result.backup_id}, freed {human_size(result.size_bytes)}")
