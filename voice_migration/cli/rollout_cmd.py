"""``voice-migration rollout``: flag management and the health-gated advance (DESIGN.md section 6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

import click

from voice_migration import command, flags
from voice_migration.cli.common import (
    NOTIFY,
    database_url_option,
    echo_json,
    format_option,
    handle_errors,
    settings_from,
    warns_about_notification_setup,
)
from voice_migration.infra.errors import OperationRefused
from voice_migration.infra.events import Listener
from voice_migration.infra.settings import Settings
from voice_migration.rollout.changes import AdvanceResult
from voice_migration.rollout.health import HealthPolicy, format_duration
from voice_migration.rollout.plan import DEFAULT_PLAN_TEXT, PLAN_ENV, RolloutPlan
from voice_migration.rollout.state import FlagChange, OverrideChange
from voice_migration.rollout.watch import RecordedEvaluation

OPERATOR_ENV = "VOICE_MIGRATION_OPERATOR"
P = ParamSpec("P")
R = TypeVar("R")

by_option = click.option(
    "--by",
    "by",
    metavar="WHO",
    required=True,
    envvar=OPERATOR_ENV,
    show_envvar=True,
    help="Who makes the change (name or e-mail), for the audit.",
)
reason_option = click.option("--reason", metavar="TEXT", default=None, help="Why; kept in the audit.")


@click.group("rollout")
def rollout_group() -> None:
    """Manage the voice agent v2 feature flags: percentage, per-tenant overrides, health-gated advance."""


@rollout_group.command("status")
@format_option
@database_url_option
@handle_errors
def status_command(output_format: str, database_url: str | None) -> None:
    """Show the flags, tenants in v2, and v1 vs v2 calls, error rate and p95 latency of the last 24 h."""
    status = command.rollout_status(settings_from(database_url))
    if output_format == "json":
        click.echo(json.dumps(status.as_dict(), indent=2))
        return
    click.echo(render_status(status))


def render_status(status: flags.RolloutStatus) -> str:
    """The runbook's dashboard (section 5.5) as text."""
    v2_rate = "N/A" if status.v2.error_rate is None else f"{status.v2.error_rate * 100:.2f} %"
    return "\n".join(
        [
            "Voice Agent v2 Rollout Status",
            "=============================",
            f"Enabled: {'yes' if status.enabled else 'no (master switch off: every tenant on v1)'}",
            f"Percentage: {status.percentage} %",
            f"Tenants in v2: {status.tenants_in_v2:,} / {status.total_tenants:,}",
            f"Overrides: {status.overrides_enabled:,} forced into v2, {status.overrides_disabled:,} kept on v1",
            f"Last change: {status.updated_at:%Y-%m-%d %H:%M:%S %Z} by {status.updated_by}",
            f"Current step since: {status.step_started_at:%Y-%m-%d %H:%M:%S %Z}",
            f"Version Metrics (last {format_duration(status.window)}):",
            f"  - {status.v1.describe()}",
            f"  - {status.v2.describe()}",
            f"  - v2 error rate: {v2_rate}",
            *([f"Held on v1: {status.held.describe()}"] if status.held.tenants else []),
            *(f"warning: {warning}" for warning in status.warnings),
        ]
    )


@rollout_group.command("set-percentage")
@click.argument("percentage", type=click.IntRange(0, 100))
@by_option
@reason_option
@format_option
@database_url_option
@handle_errors
@warns_about_notification_setup
def set_percentage_command(
    percentage: int, by: str, reason: str | None, output_format: str, database_url: str | None
) -> None:
    """Set the rollout PERCENTAGE (0-100) and turn the master switch on."""
    change = command.set_percentage(settings_from(database_url), percentage, by, reason=reason, notify=NOTIFY)
    if output_format == "json":
        echo_json(change_document("set-percentage", change))
        return
    click.echo(describe_flag_change(change))


def change_document(command: str, change: FlagChange | OverrideChange) -> dict[str, object]:
    """A flag or override change as JSON (docs/schemas/flag-change.schema.json)."""
    return {"schema_version": 1, "command": command, "change": change.as_dict()}


class _OverrideCommand(Protocol):
    def __call__(
        self, settings: Settings, tenant_id: str, by: str, *, reason: str | None = None, notify: Listener | None = None
    ) -> OverrideChange: ...


def _add_tenant_command(name: str, change_override: _OverrideCommand, summary: str) -> None:
    """Register ``rollout <name> TENANT_ID --by WHO [--reason R]`` over one override function."""

    @rollout_group.command(name, help=summary)
    @click.argument("tenant_id")
    @by_option
    @reason_option
    @format_option
    @database_url_option
    @handle_errors
    @warns_about_notification_setup
    def command(tenant_id: str, by: str, reason: str | None, output_format: str, database_url: str | None) -> None:
        change = change_override(settings_from(database_url), tenant_id, by, reason=reason, notify=NOTIFY)
        if output_format == "json":
            echo_json(change_document(name, change))
            return
        click.echo(describe_override_change(change))


@rollout_group.command("enable-tenant")
@click.argument("tenant_id")
@by_option
@reason_option
@click.option(
    "--force", is_flag=True, help="Also for a tenant held on v1 by configs in quarantine (recorded in the audit)."
)
@format_option
@database_url_option
@handle_errors
@warns_about_notification_setup
def enable_tenant_command(
    tenant_id: str, by: str, reason: str | None, force: bool, output_format: str, database_url: str | None
) -> None:
    """Force TENANT_ID into v2 whatever its bucket (the switch still wins); refused for a held tenant."""
    change = command.enable_tenant(
        settings_from(database_url), tenant_id, by, reason=reason, force=force, notify=NOTIFY
    )
    if output_format == "json":
        echo_json(change_document("enable-tenant", change))
        return
    click.echo(describe_override_change(change))


_add_tenant_command("disable-tenant", command.disable_tenant, "Keep TENANT_ID on v1 whatever its bucket.")
_add_tenant_command("clear-tenant", command.clear_tenant, "Remove TENANT_ID's override; its bucket decides again.")


@rollout_group.command("history")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many entries.")
@click.option("--tenant-id", default=None, help="Only the changes of this tenant's override.")
@format_option
@database_url_option
@handle_errors
def history_command(limit: int, tenant_id: str | None, output_format: str, database_url: str | None) -> None:
    """Show the audit trail of flag changes and the rollout watcher's evaluations (E...), newest first."""
    timeline = command.rollout_history(settings_from(database_url), limit=limit, tenant_id=tenant_id)
    if output_format == "json":
        click.echo(json.dumps([item.as_dict() for item in timeline], indent=2))
        return
    if not timeline:
        click.echo("no flag changes recorded")
    for entry in timeline:
        if isinstance(entry, RecordedEvaluation):
            click.echo(entry.describe())
            continue
        scope = f"tenant {entry.tenant_id}" if entry.tenant_id else "global"
        line = (
            f"#{entry.id} {entry.changed_at:%Y-%m-%d %H:%M:%S %Z} {entry.action} ({scope}) by {entry.changed_by}: "
            f"{_audit_value(entry.old_value)} -> {_audit_value(entry.new_value)}"
        )
        click.echo(line + (f" - {entry.reason}" if entry.reason else ""))


def gate_options(command: Callable[P, R]) -> Callable[P, R]:
    """The advance gate's options (``--plan``, ``--window``, the margins, ``--min-calls``), for every command
    that evaluates it (``advance``, ``watch``); :func:`gate_from_options` turns them into the plan and policy.
    """
    for option in reversed(_GATE_OPTIONS):
        command = option(command)
    return command


def gate_from_options(
    plan: str | None,
    window: str | None,
    max_error_rate_increase: float | None,
    max_p95_increase: float | None,
    min_calls: int | None,
) -> tuple[RolloutPlan, HealthPolicy]:
    """The plan and the health policy from the gate options (else the environment, else the defaults)."""
    return RolloutPlan.configured(plan), HealthPolicy.configured(
        window=window,
        max_error_rate_increase=max_error_rate_increase,
        max_p95_increase=max_p95_increase,
        min_calls=min_calls,
    )


# Each has an environment variable, read by click (shown in --help) and, for callers from Python, by
# RolloutPlan.configured / HealthPolicy.configured; the defaults are theirs.
_GATE_OPTIONS = (
    click.option(
        "--plan",
        metavar="STEPS",
        default=None,
        envvar=PLAN_ENV,
        show_envvar=True,
        help=f"Steps PERCENT[:HOLD] (default {DEFAULT_PLAN_TEXT}).",
    ),
    click.option(
        "--window",
        metavar="DURATION",
        default=None,
        envvar="VOICE_MIGRATION_HEALTH_WINDOW",
        show_envvar=True,
        help="Health window, e.g. 30m (default 24h).",
    ),
    click.option(
        "--max-error-rate-increase",
        type=click.FloatRange(min=0),
        default=None,
        metavar="POINTS",
        envvar="VOICE_MIGRATION_HEALTH_MAX_ERROR_RATE_INCREASE",
        show_envvar=True,
        help="How many percentage points v2's error rate may exceed v1's (default 1.0).",
    ),
    click.option(
        "--max-p95-increase",
        type=click.FloatRange(min=0),
        default=None,
        metavar="PERCENT",
        envvar="VOICE_MIGRATION_HEALTH_MAX_P95_INCREASE",
        show_envvar=True,
        help="How many percent v2's p95 latency may exceed v1's (default 10).",
    ),
    click.option(
        "--min-calls",
        type=click.IntRange(min=0),
        default=None,
        envvar="VOICE_MIGRATION_HEALTH_MIN_CALLS",
        show_envvar=True,
        help="Calls each cohort needs in the window (default 100).",
    ),
)


@rollout_group.command("advance")
@by_option
@reason_option
@click.option("--force", is_flag=True, help="Advance even when the gate fails (recorded in the audit).")
@gate_options
@format_option
@database_url_option
@handle_errors
@warns_about_notification_setup
def advance_command(
    by: str,
    reason: str | None,
    force: bool,
    plan: str | None,
    window: str | None,
    max_error_rate_increase: float | None,
    max_p95_increase: float | None,
    min_calls: int | None,
    output_format: str,
    database_url: str | None,
) -> None:
    """Move to the next step of the plan when the health gate passes; exit 1 when it refuses."""
    rollout_plan, policy = gate_from_options(plan, window, max_error_rate_increase, max_p95_increase, min_calls)
    result = command.advance(
        settings_from(database_url), by, plan=rollout_plan, policy=policy, force=force, reason=reason, notify=NOTIFY
    )
    if output_format == "json":
        echo_json(advance_document("advance", rollout_plan, result))
        if result.refusal is not None:
            raise OperationRefused(result.refusal)
        return
    click.echo(f"Plan: {rollout_plan.describe()}")
    if result.held.tenants:
        click.echo(f"Held on v1: {result.held.describe()}")
    if result.to_percentage is None and result.refusal is None:
        click.echo(f"Already at {result.from_percentage} %, the last step of the plan: nothing to advance.")
        return
    click.echo(f"Current: {result.from_percentage} %; next step: {result.to_percentage} %")
    if not result.checks and result.refusal is None:
        click.echo("Gate: not needed to start the plan (no v2 cohort to judge yet)")
    for check in result.checks:
        click.echo(f"  [{'ok' if check.passed else 'FAILED'}] {check.name}: {check.evidence}")
    if result.refusal is not None:
        raise OperationRefused(result.refusal)
    assert result.change is not None
    forced = " (FORCED past the failed checks; recorded in the audit)" if result.failed_checks else ""
    click.echo(f"Advanced: {describe_flag_change(result.change)}{forced}")


@rollout_group.command("check")
@gate_options
@format_option
@database_url_option
@handle_errors
def check_command(
    plan: str | None,
    window: str | None,
    max_error_rate_increase: float | None,
    max_p95_increase: float | None,
    min_calls: int | None,
    output_format: str,
    database_url: str | None,
) -> None:
    """Would `rollout advance` advance now? Evaluate its gate, change nothing; exit 0 if yes, 1 if not.

    Made for a daily cron or CI job. It rehearses `advance` in a transaction that is rolled back, so it
    applies exactly the gate `advance` and `rollout watch` apply. Exit 1 also when there is nothing to
    advance (the last step of the plan) or the master switch is off after a total rollback.
    """
    rollout_plan, policy = gate_from_options(plan, window, max_error_rate_increase, max_p95_increase, min_calls)
    result = command.rollout_check(settings_from(database_url), plan=rollout_plan, policy=policy)
    verdict = check_verdict(result)
    if output_format == "json":
        echo_json(advance_document("check", rollout_plan, result))
    else:
        click.echo(f"Plan: {rollout_plan.describe()}")
        step = "none (the last step of the plan)" if result.to_percentage is None else f"{result.to_percentage} %"
        click.echo(f"Current: {result.from_percentage} %; next step: {step}")
        for check in result.checks:
            click.echo(f"  [{'ok' if check.passed else 'FAILED'}] {check.name}: {check.evidence}")
        click.echo(f"Advance allowed: {'yes' if result.advanced else 'no'} ({verdict})")
    if not result.advanced:
        raise OperationRefused(f"rollout check: advancing is not allowed now: {verdict}")


def check_verdict(result: AdvanceResult) -> str:
    """Why advancing would (not) be allowed, in one line."""
    if result.advanced:
        gate = "the gate passes" if result.checks else "no gate needed to start the plan"
        return f"{gate}; `rollout advance` would move from {result.from_percentage} % to {result.to_percentage} %"
    if result.refusal is not None:
        return result.refusal
    return f"already at {result.from_percentage} %, the last step of the plan: nothing to advance"


def advance_document(command: str, plan: RolloutPlan, result: AdvanceResult) -> dict[str, object]:
    """``rollout advance`` / ``rollout check`` as JSON (docs/schemas/rollout-advance.schema.json)."""
    document: dict[str, object] = {"schema_version": 1, "command": command, "plan": plan.describe()}
    document.update(result.as_dict())
    if command == "check":
        document["allowed"] = result.advanced
        document["change"] = None  # a rehearsal: it was rolled back
        document["advanced"] = False
        document["verdict"] = check_verdict(result)
    return document


def describe_flag_change(change: FlagChange) -> str:
    """``"voice agent v2: 10 %, master switch on -> 25 %, master switch on (set_percentage by ann)"``."""
    return (
        f"voice agent v2: {change.describe(new=False)} -> {change.describe(new=True)} "
        f"({change.action} by {change.changed_by})"
    )


def describe_override_change(change: OverrideChange) -> str:
    """``"tenant t1: no override -> kept on v1 (rollback_tenant by ann)"``."""
    if change.old is None and change.new is None:
        return f"tenant {change.tenant_id} had no override: nothing changed"
    return (
        f"tenant {change.tenant_id}: {change.describe_value(change.old)} -> {change.describe_value(change.new)} "
        f"({change.action} by {change.changed_by})"
    )


def _audit_value(value: dict[str, object] | None) -> str:
    if value is None:
        return "none"
    if "rollout_percentage" in value:
        return f"{value['rollout_percentage']} % {'on' if value.get('enabled') else 'off'}"
    return OverrideChange.describe_value(bool(value.get("enabled")))
