"""``voice-migration backups list|create|drop|export|import`` and the data-restore half of ``rollback``.

``rollback --level data`` and ``rollback --list-backups`` (in ``rollback_cmd.py``) call
:func:`restore_from_cli` and :func:`print_backup_list`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from voice_migration import command
from voice_migration.cli.common import (
    NOTIFY,
    database_url_option,
    echo_json,
    format_option,
    handle_errors,
    settings_from,
)
from voice_migration.cli.confirm import confirm, confirm_by_typing
from voice_migration.infra.errors import OperationRefused
from voice_migration.migration.backup import (
    BackupInfo,
    validate_backup_id,
)
from voice_migration.migration.backup_export import ExportResult
from voice_migration.migration.restore import RestorePlan, RestoreResult, TableRestore
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
    backups = command.backups_list(settings_from(database_url))
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


def _newer_lines(tables: tuple[TableRestore, ...], *, delete_newer: bool = False, done: bool = False) -> list[str]:
    newer = [t for t in tables if t.newer]
    if not newer:
        return ["Rows created after the backup: none."]
    if delete_newer:
        verb = "were DELETED" if done else "are DELETED (--delete-newer)"
        lines = [f"Rows created after the backup {verb}; the safety backup holds them:"]
    else:
        lines = ["Rows created after the backup are KEPT (--delete-newer would delete them):"]
    for table in newer:
        more = ", ..." if table.newer > len(table.newer_sample) else ""
        lines.append(f"  {table.table}: {table.newer:,} ({', '.join(table.newer_sample)}{more})")
    return lines


def _tenant_list(tenants: tuple[str, ...], shown: int = 20) -> str:
    more = f", and {len(tenants) - shown:,} more" if len(tenants) > shown else ""
    return ", ".join(tenants[:shown]) + more


def _print_plan(
    plan: RestorePlan, *, with_total_rollback: bool = False, delete_newer: bool = False, err: bool = False
) -> None:
    info = plan.backup
    click.echo(f"Restore {describe_backup(info)}", err=err)
    on_v2 = plan.flags.tenants_on_v2
    if on_v2:
        click.echo(f"v2 serves {len(on_v2):,} tenants of this scope now: {_tenant_list(on_v2)}", err=err)
    if with_total_rollback and plan.flags.master_on:
        click.echo(
            "First the master switch is turned OFF (every tenant to v1; audited as rollback_total, notified).",
            err=err,
        )
    click.echo("A safety backup of the current state of the same scope is taken first. Then:", err=err)
    for table in plan.tables:
        click.echo(_table_line(table, "return"), err=err)
    for skipped in plan.skipped_tables:
        click.echo(f"  {skipped}: no longer exists; its backed-up rows are not restored", err=err)
    for line in _newer_lines(plan.tables, delete_newer=delete_newer):
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
                "newer_kept": 0 if result.delete_newer else t.newer,
                "columns_reset": list(t.columns_reset),
                "columns_not_restored": list(t.columns_not_restored),
            }
            for t in result.tables
        ],
        "skipped_tables": list(result.skipped_tables),
    }


def _print_result(result: RestoreResult) -> None:
    click.echo(f"Restored {result.backup_id} in {result.seconds:.1f} s; checksums verified.")
    if result.total_rollback:
        click.echo("The master switch was turned OFF first (rollback_total in the audit).")
    for table in result.tables:
        click.echo(_table_line(table, "returned"))
    for line in _newer_lines(result.tables, delete_newer=result.delete_newer, done=True):
        click.echo(line)
    if result.tenants_on_v2:
        on_v2 = result.tenants_on_v2
        click.echo(f"Tenants on v2 when the restore began ({len(on_v2):,}): {_tenant_list(on_v2)}")
    else:
        click.echo("Tenants on v2 when the restore began: none.")
    click.echo(
        f"Safety backup of the state before: {result.safety_backup_id} "
        f"(undo with: voice-migration rollback --level data --backup-id {result.safety_backup_id})"
    )


def restore_from_cli(
    database_url: str | None,
    backup_id: str,
    yes: bool,
    output_format: str = "text",
    *,
    with_total_rollback: bool = False,
    delete_newer: bool = False,
    by: str = "voice-migration",
    reason: str | None = None,
) -> None:
    """``rollback --level data --backup-id ID [--yes]``: show the plan, make the operator type the id, restore.

    A malformed id is refused before connecting. With no TTY and no ``--yes`` it refuses (exit 1). A
    restore that would hand v2 configs in v1 shape is refused before asking, unless ``with_total_rollback``.
    With ``--format json`` the plan goes to stderr (it is for the person confirming) and the result,
    as JSON, to stdout.
    """
    validate_backup_id(backup_id)
    as_json = output_format == "json"

    def show_and_confirm(plan: RestorePlan) -> None:
        refusal = plan.flags.refusal(backup_id)
        if refusal and not with_total_rollback:
            raise OperationRefused(refusal)
        _print_plan(plan, with_total_rollback=with_total_rollback, delete_newer=delete_newer, err=as_json)
        confirm_by_typing(f"restore {backup_id} (destructive)", backup_id, yes=yes)

    result = command.restore(
        settings_from(database_url),
        backup_id,
        confirm=show_and_confirm,
        with_total_rollback=with_total_rollback,
        delete_newer=delete_newer,
        by=by,
        reason=reason,
        notify=NOTIFY,
    )
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
    """Backups inside the database (schema voice_migration): list, create, drop; export and import as files."""


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
    info = command.backups_create(settings_from(database_url), scope)
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

    def show_and_confirm(info: BackupInfo) -> None:
        click.echo(f"Drop {describe_backup(info)}")
        confirm(f"drop backup {backup_id}", yes=yes)

    result = command.backups_drop(settings_from(database_url), backup_id, force=force, confirm=show_and_confirm)
    click.echo(f"dropped {result.backup_id}, freed {human_size(result.size_bytes)}")


def describe_export(result: ExportResult) -> str:
    """One line: what was exported, where, how big (``backups export`` and ``migrate --backup-to``)."""
    tables = ", ".join(f"{t.name} {result.manifest.counts[t.name]:,}" for t in result.manifest.tables)
    return (
        f"exported {result.backup_id} to {result.path} ({tables} rows; {human_size(result.total_bytes)}; "
        f"{result.seconds:.1f} s); check a copy with `sha256sum -c SHA256SUMS` in that directory"
    )


@backups_group.command("export")
@click.argument("backup_id")
@click.option(
    "--to",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write DIR/BACKUP_ID/ into (COPY files, manifest.json, SHA256SUMS).",
)
@database_url_option
@handle_errors
def export_command(backup_id: str, directory: Path, database_url: str | None) -> None:
    """Write a backup out of the database: one COPY file per table plus manifest.json (streamed)."""
    validate_backup_id(backup_id)
    result = command.backups_export(settings_from(database_url), backup_id, directory)
    click.echo(describe_export(result))


@backups_group.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@database_url_option
@handle_errors
def import_command(directory: Path, database_url: str | None) -> None:
    """Load an export (DIR/BACKUP_ID) into this database's voice_migration schema, every checksum verified."""
    info = command.backups_import(settings_from(database_url), directory)
    click.echo(f"imported {describe_backup(info)}; checksums verified")
    click.echo(f"restore it with: voice-migration rollback --level data --backup-id {info.backup_id}")
