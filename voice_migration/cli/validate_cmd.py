"""``voice-migration validate``: run the SQL checks (and, with ``--fix``, the safe repairs) and report."""

from __future__ import annotations

import click

from voice_migration import command
from voice_migration.cli.common import database_url_option, handle_errors, settings_from
from voice_migration.infra.errors import CheckFailed, UsageError
from voice_migration.migration import validation
from voice_migration.migration.scope import parse_tenant_ids


@click.command("validate")
@click.option("--fix", "apply_fix", is_flag=True, help="Apply the safe repairs first, then validate again.")
@click.option("--tenant-ids", metavar="A,B", default=None, help="Only these tenants (default: every tenant).")
@click.option(
    "--check", "checks", metavar="NAME", multiple=True, help="Run only this check (repeatable). Default: all."
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--preflight", is_flag=True, help="Run the v1 pre-flight checks instead (works on a v1-only database).")
@database_url_option
@handle_errors
def validate_command(
    apply_fix: bool,
    tenant_ids: str | None,
    checks: tuple[str, ...],
    output_format: str,
    preflight: bool,
    database_url: str | None,
) -> None:
    """Run sql/validation/*.sql and report; exit 1 when a critical or high check fails."""
    if apply_fix and preflight:
        raise UsageError("--fix repairs v2 data and cannot be combined with --preflight; drop one of them")
    scope = parse_tenant_ids(tenant_ids)
    names = list(checks) or None
    report, fixes = command.validate(
        settings_from(database_url), tenant_ids=scope, checks=names, preflight=preflight, apply_fix=apply_fix
    )
    render = validation.render_json if output_format == "json" else validation.render_text
    click.echo(render(report, fixes))
    if not report.ok:
        raise CheckFailed(
            f"{report.kind} failed: critical or high checks failed "
            f"({', '.join(r.check.name for r in report.blocking)}); see the report above, "
            "repair the rows it lists (`--fix` repairs the safe cases) and run validate again"
        )
