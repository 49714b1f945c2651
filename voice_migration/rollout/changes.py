"""Moving the rollout forward behind a health gate, the rollback levels, and the audit trail.

* :func:`advance` — the next step of the plan (``voice_migration.rollout.plan``), only when the current
  step has been held long enough and the v2 cohort is healthy (``voice_migration.rollout.health``); ``force``
  skips the gate and says so in the audit.
* :func:`check_advance` — the same decision, rehearsed and rolled back: ``rollout check``.
* :func:`rollback_tenant`, :func:`rollback_partial`, :func:`rollback_total` — the runbook's rollback
  levels 1-3 (section 7); level 4, ``data``, is ``voice_migration.migration.restore``.
* :func:`rollout_history` — the audit trail.

Every change runs in one transaction with the flags row locked (``voice_migration.rollout.state``), is
audited by the database, and is notified after it commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from voice_migration.flags import set_tenant_override
from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.rollout.health import (
    GateCheck,
    HealthPolicy,
    HealthReport,
    attribution_check,
    evaluate_health,
    format_duration,
)
from voice_migration.rollout.hold import HoldSummary, hold_summary
from voice_migration.rollout.plan import DEFAULT_PLAN, RolloutPlan
from voice_migration.rollout.state import (
    Conn,
    FlagChange,
    Notifier,
    OverrideChange,
    announce,
    as_datetime,
    as_int,
    flag_change,
    flag_tables_required,
    flags_sql,
    require_percentage,
)


@dataclass(frozen=True)
class AdvanceResult:
    """What ``advance`` decided and why: the checks with their evidence, and the change if one was made."""

    from_percentage: int
    to_percentage: int | None
    checks: tuple[GateCheck, ...]
    health: HealthReport | None
    change: FlagChange | None
    forced: bool = False
    refusal: str | None = None
    held: HoldSummary = field(default_factory=HoldSummary)

    @property
    def advanced(self) -> bool:
        """True when the percentage was raised."""
        return self.change is not None

    @property
    def failed_checks(self) -> tuple[GateCheck, ...]:
        """The checks that failed (when ``advanced``, ``force`` carried it past them)."""
        return tuple(check for check in self.checks if not check.passed)

    def as_dict(self) -> dict[str, object]:
        """JSON for ``rollout advance`` and ``rollout check`` (docs/schemas/rollout-advance.schema.json)."""
        return {
            "from_percentage": self.from_percentage,
            "to_percentage": self.to_percentage,
            "advanced": self.advanced,
            "forced": self.forced,
            "checks": [{"name": c.name, "passed": c.passed, "evidence": c.evidence} for c in self.checks],
            "refusal": self.refusal,
            "change": None if self.change is None else self.change.as_dict(),
        }


def advance(
    conn: Conn,
    advanced_by: str,
    *,
    plan: RolloutPlan = DEFAULT_PLAN,
    policy: HealthPolicy | None = None,
    force: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
    notify: Notifier | None = None,
) -> AdvanceResult:
    """Raise the percentage to the plan's next step if the gate passes (or ``force``); never raises on a refusal.

    The gate, checked while the flags row is locked: the current step has been held for its minimum
    time (measured from ``step_started_at``, which restarts whenever the percentage or the master switch
    changes) and the health report passes. Starting the plan from 0 % needs no gate: there is no v2
    cohort to judge yet. A rollout stopped by a total rollback (master switch off above 0 %) is refused
    even with ``force``: turning v2 back on is a deliberate ``update_rollout_percentage``.
    ``now`` (default: the database's clock) is when the hold time and the health window end;
    ``notify`` replaces the default notification channel (see :func:`~voice_migration.rollout.state.announce`).
    """
    policy = policy or HealthPolicy()
    action = "advance_forced" if force else "advance"
    on_hold = hold_summary(conn)
    with flag_change(conn, action=action, changed_by=advanced_by, reason=reason) as change:
        state = change.state
        step = plan.next_step(state.percentage)
        target = step.percentage if step else None
        if not state.enabled and state.percentage > 0:
            return AdvanceResult(
                state.percentage,
                target,
                (),
                None,
                None,
                force,
                f"the master switch is off at {state.percentage} % (a total rollback, by {state.updated_by} "
                f"at {state.updated_at:%Y-%m-%d %H:%M} UTC): advance does not turn v2 back on; when the cause is "
                "fixed, run `voice-migration rollout set-percentage N --by WHO`",
                on_hold,
            )
        if step is None:
            return AdvanceResult(state.percentage, None, (), None, None, force, held=on_hold)
        checks: tuple[GateCheck, ...] = ()
        health = None
        if state.percentage > 0:
            on_step = (now or state.database_now) - state.step_started_at
            checks, health = gate_checks(conn, plan, policy, state.percentage, on_step, now=now)
        failed = [check for check in checks if not check.passed]
        if failed and not force:
            return AdvanceResult(
                state.percentage,
                target,
                checks,
                health,
                None,
                force,
                f"not advancing from {state.percentage} % to {target} %: "
                f"{'; '.join(f'{c.name}: {c.evidence}' for c in failed)}; "
                "wait and run advance again, or roll back (`voice-migration rollback`) if v2 is unhealthy",
                on_hold,
            )
        gate = "; ".join(f"{c.name} {'ok' if c.passed else 'FAILED'}: {c.evidence}" for c in checks)
        forced = f"FORCED past failed checks ({', '.join(c.name for c in failed)})" if failed else ""
        change.set_reason(" | ".join(part for part in (change.reason, forced, gate) if part) or None)
        result = change.set_flags(enabled=True, percentage=step.percentage)
    announce(
        result,
        f"voice agent v2 advanced from {state.percentage} % to {step.percentage} % by {result.changed_by}"
        + (" (forced past the health gate)" if failed else ""),
        notify,
    )
    return AdvanceResult(state.percentage, step.percentage, checks, health, result, force, held=on_hold)


def gate_checks(
    conn: Conn,
    plan: RolloutPlan,
    policy: HealthPolicy,
    percentage: int,
    on_step: timedelta,
    *,
    now: datetime | None = None,
) -> tuple[tuple[GateCheck, ...], HealthReport]:
    """The advance gate at ``percentage`` (held for ``on_step``): every check, in the order they are shown.

    Hold time; then "v2 attribution" once tenants have been on v2 for longer than the health window (no
    call marked ``version = 'v2'`` by then means the v2 application is not marking its calls, and the
    health checks below could never pass); then the health checks. ``advance`` refuses unless all pass;
    ``rollout check`` and ``rollout watch`` should call this rather than assemble their own list.
    """
    hold = hold_check(plan, percentage, on_step)
    health = evaluate_health(conn, policy, now=now)
    attribution = attribution_check(health.v2, on_step, policy.window)
    if attribution is not None and not attribution.passed and not _any_tenant_on_v2(conn):
        attribution = None  # nobody is on v2 (e.g. every tenant of the step held): nothing to mark
    return (hold, *((attribution,) if attribution else ()), *health.checks), health


def _any_tenant_on_v2(conn: Conn) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT FROM tenants AS t WHERE voice_agent_v2_enabled(t.id))").fetchone()
    return bool(row and row[0])


#: The actor a rehearsed advance runs as; it never reaches the audit (the rehearsal is rolled back).
CHECK_ACTOR = "rollout-check"


def check_advance(
    conn: Conn,
    *,
    plan: RolloutPlan = DEFAULT_PLAN,
    policy: HealthPolicy | None = None,
    now: datetime | None = None,
) -> AdvanceResult:
    """Would :func:`advance` move to the next step now? Its answer, with every check, and nothing changed.

    Not a copy of the gate: this *is* :func:`advance`, rehearsed in a transaction that is always rolled back
    (psycopg's ``force_rollback``, as ``migrate --dry-run`` does), with notifications off. So every rule the
    gate has, or gains, applies here too, and ``result.advanced`` says whether advancing would be allowed.
    While it runs it holds the flags row lock, like any flag change (a concurrent change waits for at most
    ``lock_timeout``); the only trace it leaves is an unused audit id (sequences are not transactional).
    """

    def silent(kind: str, message: str, details: Mapping[str, object]) -> None:
        """A rehearsal tells nobody."""

    with conn.transaction(force_rollback=True):
        return advance(conn, CHECK_ACTOR, plan=plan, policy=policy, now=now, notify=silent)


def hold_check(plan: RolloutPlan, percentage: int, held: timedelta) -> GateCheck:
    """The gate's "hold time" check: has ``percentage`` been held (for ``held``) as long as the plan asks?"""
    required = plan.hold_for(percentage)
    return GateCheck(
        "hold time",
        held >= required,
        f"at {percentage} % for {format_duration(held)} (minimum {format_duration(required)})",
    )


def rollback_tenant(conn: Conn, tenant_id: str, rolled_back_by: str, *, reason: str | None = None) -> OverrideChange:
    """Rollback level ``tenant``: keep one tenant on v1 (override false), whatever the percentage."""
    return set_tenant_override(conn, tenant_id, False, rolled_back_by, reason=reason, action="rollback_tenant")


def rollback_partial(
    conn: Conn, target_percentage: int, rolled_back_by: str, *, reason: str | None = None
) -> FlagChange:
    """Rollback level ``partial``: lower the percentage to ``target_percentage`` (must be below the current).

    Lowering never adds a tenant to v2; the master switch and the overrides are left as they are.
    """
    require_percentage(target_percentage, "the target percentage")
    with flag_change(conn, action="rollback_partial", changed_by=rolled_back_by, reason=reason) as change:
        current = change.state.percentage
        if target_percentage >= current:
            raise OperationRefused(
                f"the target percentage {target_percentage} % is not lower than the current {current} %: "
                "a partial rollback only lowers it; to raise it use `voice-migration rollout advance` "
                "or `rollout set-percentage`"
            )
        result = change.set_flags(enabled=change.state.enabled, percentage=target_percentage)
    announce(
        result,
        f"voice agent v2 rolled back from {current} % to {target_percentage} % by {result.changed_by}",
    )
    return result


def rollback_total(conn: Conn, reason: str, rolled_back_by: str) -> FlagChange:
    """Rollback level ``total``: turn the master switch off, every tenant back to v1 (reason required).

    The percentage and the overrides are kept, so the state before is visible and the audit complete.
    """
    require_reason(reason)
    with flag_change(conn, action="rollback_total", changed_by=rolled_back_by, reason=reason) as change:
        result = change.set_flags(enabled=False, percentage=change.state.percentage)
    announce(result, f"voice agent v2 turned OFF for every tenant by {result.changed_by}: {result.reason}")
    return result


def require_reason(reason: str | None) -> str:
    """The reason of a total rollback, stripped; raise :class:`UsageError` when it is missing or blank."""
    if not reason or not reason.strip():
        raise UsageError(
            'a total rollback needs a reason: pass --reason "what is wrong" (it goes to the audit and the notification)'
        )
    return reason.strip()


@dataclass(frozen=True)
class AuditEntry:
    """One row of ``voice_agent_v2_flag_audit``."""

    id: int
    changed_at: datetime
    changed_by: str
    db_user: str
    level: str
    action: str
    tenant_id: str | None
    old_value: dict[str, object] | None
    new_value: dict[str, object] | None
    reason: str | None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "changed_at": self.changed_at.isoformat(),
            "changed_by": self.changed_by,
            "db_user": self.db_user,
            "level": self.level,
            "action": self.action,
            "tenant_id": self.tenant_id,
            "old": self.old_value,
            "new": self.new_value,
            "reason": self.reason,
        }


def rollout_history(conn: Conn, *, limit: int = 20, tenant_id: str | None = None) -> list[AuditEntry]:
    """The latest ``limit`` audit entries, newest first; only ``tenant_id``'s when given."""
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    with flag_tables_required():
        rows = conn.execute(flags_sql("history"), {"limit": limit, "tenant_id": tenant_id}).fetchall()
    return [
        AuditEntry(
            id=as_int(row[0]),
            changed_at=as_datetime(row[1]),
            changed_by=str(row[2]),
            db_user=str(row[3]),
            level=str(row[4]),
            action=str(row[5]),
            tenant_id=None if row[6] is None else str(row[6]),
            old_value=_json_object(row[7]),
            new_value=_json_object(row[8]),
            reason=None if row[9] is None else str(row[9]),
        )
        for row in rows
    ]


def _json_object(value: object) -> dict[str, object] | None:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else None
