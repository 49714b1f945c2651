"""The runbook's feature-flag API in Python (runbook section 5; DESIGN.md sections 3 and 5).

For application code:

* :func:`should_use_voice_agent_v2_cached` — the hot-path check: evaluated in process from a snapshot
  that a background listener keeps fresh (NOTIFY, and a TTL); never a query per call. The default
  instance connects with ``DATABASE_URL``; :func:`configure_cached_check` sets URL, TTL and LISTEN,
  :func:`close_cached_check` stops it.
* :func:`should_use_voice_agent_v2` — the same answer straight from SQL (``voice_agent_v2_enabled``).

For operators (also behind ``voice-migration rollout``): :func:`update_rollout_percentage`,
:func:`enable_tenant_for_v2`, :func:`disable_tenant_for_v2`, :func:`clear_tenant_override` and
:func:`get_rollout_status`. Each change runs in one transaction with the flags row locked, is audited by
the database and notified; see ``voice_migration.rollout.state``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from voice_migration.infra.errors import OperationRefused
from voice_migration.infra.settings import Environment, Settings, load_settings
from voice_migration.rollout.cache import DEFAULT_TTL_SECONDS, CachedFlagCheck, FlagSnapshot, bucket
from voice_migration.rollout.health import CohortStats, attribution_check, cohort_stats
from voice_migration.rollout.hold import HoldSummary, held_configs, hold_summary
from voice_migration.rollout.state import (
    Conn,
    FlagChange,
    OverrideChange,
    announce,
    as_datetime,
    as_int,
    flag_change,
    flag_tables_required,
    flags_row_missing,
    flags_sql,
    require_percentage,
)

__all__ = [
    "CachedFlagCheck",
    "FlagChange",
    "FlagSnapshot",
    "OverrideChange",
    "RolloutStatus",
    "bucket",
    "clear_tenant_override",
    "close_cached_check",
    "configure_cached_check",
    "disable_tenant_for_v2",
    "enable_tenant_for_v2",
    "get_rollout_status",
    "should_use_voice_agent_v2",
    "should_use_voice_agent_v2_cached",
    "update_rollout_percentage",
]

CACHE_TTL_ENV = "VOICE_MIGRATION_FLAG_CACHE_TTL"
STATUS_WINDOW = timedelta(hours=24)


# --- application code -------------------------------------------------------------------------------


def should_use_voice_agent_v2(conn: Conn, tenant_id: str) -> bool:
    """Whether ``tenant_id`` should use voice agent v2, asked of the database (one query)."""
    with flag_tables_required():
        row = conn.execute(flags_sql("is_enabled"), {"tenant_id": tenant_id}).fetchone()
    return bool(row and row[0])


_default_check: CachedFlagCheck | None = None
_default_lock = threading.Lock()


def should_use_voice_agent_v2_cached(tenant_id: str) -> bool:
    """Whether ``tenant_id`` should use voice agent v2, from the in-process snapshot (no query per call).

    The first call starts the default :class:`CachedFlagCheck` (``DATABASE_URL``, TTL from
    ``VOICE_MIGRATION_FLAG_CACHE_TTL``, default 30 s) unless :func:`configure_cached_check` made one.
    """
    check = _default_check
    if check is None:
        check = _default_cached_check()
    return check.is_enabled(tenant_id)


def configure_cached_check(
    database_url: str | None = None,
    *,
    settings: Settings | None = None,
    ttl: float | None = None,
    listen: bool = True,
) -> CachedFlagCheck:
    """Replace the default cached check: connect with ``settings`` (or ``database_url``/``DATABASE_URL``).

    ``ttl`` (seconds) bounds how stale a snapshot may get when notifications are lost (default
    ``VOICE_MIGRATION_FLAG_CACHE_TTL`` or 30 s); ``listen=False`` uses the TTL only. The previous
    default, if any, is closed. The new one is started (first snapshot loaded) before it is returned.
    """
    global _default_check
    check = CachedFlagCheck(
        settings or load_settings(database_url), ttl=cache_ttl_from_env() if ttl is None else ttl, listen=listen
    )
    with _default_lock:
        previous, _default_check = _default_check, check
    if previous is not None:
        previous.close()
    check.start()
    return check


def close_cached_check() -> None:
    """Stop the default cached check; the next cached check starts a new one."""
    global _default_check
    with _default_lock:
        previous, _default_check = _default_check, None
    if previous is not None:
        previous.close()


def cache_ttl_from_env(environ: dict[str, str] | None = None) -> float:
    """``VOICE_MIGRATION_FLAG_CACHE_TTL`` in seconds (default 30); raise on a non-positive number."""
    return Environment.of(environ).positive_number(CACHE_TTL_ENV, DEFAULT_TTL_SECONDS)


def _default_cached_check() -> CachedFlagCheck:
    global _default_check
    with _default_lock:
        if _default_check is None:
            _default_check = CachedFlagCheck(load_settings(), ttl=cache_ttl_from_env())
        return _default_check


# --- operators --------------------------------------------------------------------------------------


def update_rollout_percentage(conn: Conn, percentage: int, updated_by: str, *, reason: str | None = None) -> FlagChange:
    """Set the rollout percentage and turn the master switch on (the runbook's ``updateRolloutPercentage``).

    Raising the percentage never moves a tenant back to v1 (the buckets below the old value stay below
    the new one). To lower it use :func:`voice_migration.rollout.changes.rollback_partial`; to turn v2 off,
    :func:`voice_migration.rollout.changes.rollback_total`.
    """
    require_percentage(percentage)
    with flag_change(conn, action="set_percentage", changed_by=updated_by, reason=reason) as change:
        result = change.set_flags(enabled=True, percentage=percentage)
    announce(result, f"voice agent v2 set to {result.describe(new=True)} by {result.changed_by}")
    return result


def enable_tenant_for_v2(
    conn: Conn, tenant_id: str, updated_by: str, *, reason: str | None = None, force: bool = False
) -> OverrideChange:
    """Force ``tenant_id`` into v2 whatever its bucket (while the master switch is on).

    A held tenant (a config not in v2 shape, e.g. quarantined: v2 cannot read it) is refused with its
    configs and their quarantine reasons, unless ``force``; a forced enable is audited as
    ``enable_tenant_forced`` with the configs it overrode in the reason.
    """
    with flag_change(conn, action="enable_tenant", changed_by=updated_by, reason=reason) as change:
        old = change.current_override(tenant_id, must_exist=True)
        blocking = held_configs(conn, tenant_id)
        if blocking:
            listed = "; ".join(f"{config} ({reasons})" for config, reasons in blocking)
            if not force:
                raise OperationRefused(
                    f"tenant {tenant_id!r} is held on v1: {len(blocking)} of its configs are not in v2 shape, "
                    f"so v2 cannot read them: {listed}; nothing was changed; fix the v1 rows (the hold lifts by "
                    "itself once they migrate, see `voice-migration validate`) or pass --force to send it to v2 "
                    "anyway (recorded in the audit)"
                )
            change.action = "enable_tenant_forced"
            change.set_reason(" | ".join(p for p in (change.reason, f"FORCED past the quarantine hold: {listed}") if p))
        result = change.set_override(tenant_id, True, old)
    forced = " (FORCED past the quarantine hold)" if blocking else ""
    announce(result, f"tenant {tenant_id} {result.describe_value(True)} by {result.changed_by}{forced}")
    return result


def disable_tenant_for_v2(conn: Conn, tenant_id: str, updated_by: str, *, reason: str | None = None) -> OverrideChange:
    """Keep ``tenant_id`` on v1 whatever its bucket."""
    return set_tenant_override(conn, tenant_id, False, updated_by, reason=reason, action="disable_tenant")


def set_tenant_override(
    conn: Conn, tenant_id: str, enabled: bool, updated_by: str, *, reason: str | None, action: str
) -> OverrideChange:
    """Set one tenant's override (refused for an id the tenants table lacks); audited and notified."""
    with flag_change(conn, action=action, changed_by=updated_by, reason=reason) as change:
        old = change.current_override(tenant_id, must_exist=True)
        result = change.set_override(tenant_id, enabled, old)
    announce(result, f"tenant {tenant_id} {result.describe_value(enabled)} by {result.changed_by}")
    return result


def clear_tenant_override(conn: Conn, tenant_id: str, updated_by: str, *, reason: str | None = None) -> OverrideChange:
    """Remove ``tenant_id``'s override so its bucket decides again.

    An override of a tenant that no longer exists can still be cleared; an unknown tenant without an
    override is refused. A known tenant without an override is a no-op (nothing is written).
    """
    with flag_change(conn, action="clear_tenant", changed_by=updated_by, reason=reason) as change:
        old = change.current_override(tenant_id, must_exist=False)
        if old is None:
            change.current_override(tenant_id, must_exist=True)
            return OverrideChange("clear_tenant", tenant_id, change.changed_by, change.reason, None, None)
        result = change.clear_override(tenant_id, old)
    announce(result, f"tenant {tenant_id}: override removed by {result.changed_by}, its bucket decides again")
    return result


@dataclass(frozen=True)
class RolloutStatus:
    """Where the rollout stands (the runbook's ``getRolloutStatus``), with v1/v2 call metrics of the last 24 h."""

    enabled: bool
    percentage: int
    updated_at: datetime
    updated_by: str
    step_started_at: datetime
    tenants_in_v2: int
    total_tenants: int
    overrides_enabled: int
    overrides_disabled: int
    v1: CohortStats
    v2: CohortStats
    window: timedelta = STATUS_WINDOW
    held: HoldSummary = field(default_factory=HoldSummary)
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (timestamps ISO 8601; error rates as fractions 0..1, None without calls)."""
        return {
            "enabled": self.enabled,
            "percentage": self.percentage,
            "tenants_in_v2": self.tenants_in_v2,
            "total_tenants": self.total_tenants,
            "overrides": {"enabled": self.overrides_enabled, "disabled": self.overrides_disabled},
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
            "step_started_at": self.step_started_at.isoformat(),
            "metrics": {
                "window_hours": self.window.total_seconds() / 3600,
                "v1_calls": self.v1.calls,
                "v2_calls": self.v2.calls,
                "v1_error_rate": self.v1.error_rate,
                "v2_error_rate": self.v2.error_rate,
                "v1_p95_latency_ms": self.v1.p95_latency_ms,
                "v2_p95_latency_ms": self.v2.p95_latency_ms,
            },
            "held": self.held.as_dict(),
            "warnings": list(self.warnings),
        }


def get_rollout_status(conn: Conn) -> RolloutStatus:
    """Flags, tenants in v2 out of all tenants, overrides, and v1 vs v2 calls, errors and p95 (last 24 h).

    Also the tenants the quarantine hold keeps on v1, and a warning when tenants have been on v2 for the
    whole window but no call is marked ``version = 'v2'`` (the v2 application is not marking its calls).
    """
    with flag_tables_required():
        row = conn.execute(flags_sql("status")).fetchone()
        if row is None:
            raise flags_row_missing()
        v1, v2 = cohort_stats(conn, STATUS_WINDOW)
        held = hold_summary(conn)
    warnings: list[str] = []
    if bool(row[0]) and as_int(row[5]) > 0:
        check = attribution_check(v2, datetime.now(UTC) - as_datetime(row[4]), STATUS_WINDOW)
        if check is not None and not check.passed:
            warnings.append(check.evidence)
    return RolloutStatus(
        enabled=bool(row[0]),
        percentage=as_int(row[1]),
        updated_at=as_datetime(row[2]),
        updated_by=str(row[3]),
        step_started_at=as_datetime(row[4]),
        tenants_in_v2=as_int(row[5]),
        total_tenants=as_int(row[6]),
        overrides_enabled=as_int(row[7]),
        overrides_disabled=as_int(row[8]),
        v1=v1,
        v2=v2,
        held=held,
        warnings=tuple(warnings),
    )
