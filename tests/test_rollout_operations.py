"""Flag changes through the Python API: audit, notifications, concurrency, the gated advance, rollbacks."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta

import psycopg
import pytest

from tests.conftest import add_calls, add_tenants
from tests.helpers import wait_for_lock_waiters
from voice_migration import flags
from voice_migration.infra import events
from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.rollout import changes as rollout
from voice_migration.rollout.health import HealthPolicy
from voice_migration.rollout.plan import DEFAULT_PLAN, RolloutPlan
from voice_migration.rollout.state import FlagChange

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture()
def sent() -> Iterator[list[tuple[str, str, dict[str, object]]]]:
    """Every event the core announced while the test ran (what the CLI would send to Slack / e-mail)."""
    captured: list[tuple[str, str, dict[str, object]]] = []

    def capture(kind: str, message: str, details: Mapping[str, object]) -> None:
        captured.append((kind, message, dict(details)))

    with events.listening(capture):
        yield captured


def audit(conn: Conn) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT action, changed_by, tenant_id, old_value, new_value, reason FROM voice_agent_v2_flag_audit "
        "WHERE action <> 'install' ORDER BY id"
    ).fetchall()


def flags_row(conn: Conn) -> tuple[object, ...] | None:
    return conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchone()


def hold_step_for(conn: Conn, hours: int) -> None:
    """Pretend the current step began ``hours`` ago (a hand edit, audited as such)."""
    conn.execute("UPDATE voice_agent_v2_flags SET step_started_at = now() - make_interval(hours => %s)", (hours,))


def test_every_rollback_level_is_audited_and_notified(
    flags_conn: Conn, sent: list[tuple[str, str, dict[str, object]]]
) -> None:
    add_tenants(flags_conn, 3)
    flags.update_rollout_percentage(flags_conn, 50, "ann", reason="day 5")
    rollout.rollback_tenant(flags_conn, "tenant-2", "bob", reason="webhook errors")
    rollout.rollback_partial(flags_conn, 10, "bob")
    rollout.rollback_total(flags_conn, "critical bug in webhook handling", "carol")
    assert audit(flags_conn) == [
        (
            "set_percentage",
            "ann",
            None,
            {"enabled": False, "rollout_percentage": 0},
            {"enabled": True, "rollout_percentage": 50},
            "day 5",
        ),
        ("rollback_tenant", "bob", "tenant-2", None, {"enabled": False, "reason": "webhook errors"}, "webhook errors"),
        (
            "rollback_partial",
            "bob",
            None,
            {"enabled": True, "rollout_percentage": 50},
            {"enabled": True, "rollout_percentage": 10},
            None,
        ),
        (
            "rollback_total",
            "carol",
            None,
            {"enabled": True, "rollout_percentage": 10},
            {"enabled": False, "rollout_percentage": 10},
            "critical bug in webhook handling",
        ),
    ]
    assert [kind for kind, _, _ in sent] == [
        "rollout_set_percentage",
        "rollback_tenant",
        "rollback_partial",
        "rollback_total",
    ]
    assert sent[-1][2]["reason"] == "critical bug in webhook handling"
    assert "OFF" in sent[-1][1]


def test_rollbacks_refuse_what_they_cannot_do_and_change_nothing(
    flags_conn: Conn, sent: list[tuple[str, str, dict[str, object]]]
) -> None:
    add_tenants(flags_conn, 1)
    flags.update_rollout_percentage(flags_conn, 25, "ann")
    with pytest.raises(OperationRefused, match="does not exist in the tenants table"):
        rollout.rollback_tenant(flags_conn, "no-such-tenant", "bob")
    with pytest.raises(OperationRefused, match="not lower than the current 25 %"):
        rollout.rollback_partial(flags_conn, 25, "bob")
    with pytest.raises(UsageError, match="0 to 100"):
        rollout.rollback_partial(flags_conn, -5, "bob")
    with pytest.raises(UsageError, match="needs a reason"):
        rollout.rollback_total(flags_conn, "  ", "bob")
    with pytest.raises(UsageError, match="--by"):
        flags.update_rollout_percentage(flags_conn, 30, " ")
    assert flags_row(flags_conn) == (True, 25)
    assert len(audit(flags_conn)) == 1
    assert len(sent) == 1


def test_overrides_are_set_replaced_and_cleared_with_their_history(
    flags_conn: Conn, sent: list[tuple[str, str, dict[str, object]]]
) -> None:
    add_tenants(flags_conn, 2)
    first = flags.enable_tenant_for_v2(flags_conn, "tenant-1", "ann", reason="premium pilot")
    second = flags.disable_tenant_for_v2(flags_conn, "tenant-1", "bob")
    cleared = flags.clear_tenant_override(flags_conn, "tenant-1", "bob")
    again = flags.clear_tenant_override(flags_conn, "tenant-1", "bob")
    assert (first.old, first.new, second.old, second.new, cleared.old, cleared.new) == (
        None,
        True,
        True,
        False,
        False,
        None,
    )
    assert (again.old, again.new) == (None, None)
    history = rollout.rollout_history(flags_conn, tenant_id="tenant-1")
    assert [entry.action for entry in history] == ["clear_tenant", "disable_tenant", "enable_tenant"]
    assert history[0].new_value is None and history[-1].reason == "premium pilot"
    with pytest.raises(OperationRefused, match="does not exist"):
        flags.clear_tenant_override(flags_conn, "ghost", "bob")
    assert [kind for kind, _, _ in sent] == ["rollout_enable_tenant", "rollout_disable_tenant", "rollout_clear_tenant"]


def test_two_concurrent_set_percentage_calls_serialise_and_both_are_audited(
    flags_database_url: str, flags_conn: Conn
) -> None:
    flags.update_rollout_percentage(flags_conn, 10, "setup")
    results: dict[str, FlagChange] = {}
    # Hold the flags row lock as an in-flight change would, so both calls are certain to queue behind it.
    with psycopg.connect(flags_database_url) as blocker:
        blocker.execute("SELECT * FROM voice_agent_v2_flags FOR UPDATE")

        def set_to(percentage: int, who: str) -> None:
            with psycopg.connect(flags_database_url, autocommit=True) as conn:
                results[who] = flags.update_rollout_percentage(conn, percentage, who)

        threads = [threading.Thread(target=set_to, args=(p, w)) for p, w in ((30, "ann"), (60, "bob"))]
        for thread in threads:
            thread.start()
        assert wait_for_lock_waiters(flags_conn, 2) == 2, "both set-percentage calls should be waiting for the row lock"
        blocker.execute("UPDATE voice_agent_v2_flags SET rollout_percentage = 20")
        blocker.commit()
    for thread in threads:
        thread.join(timeout=10)
    entries = audit(flags_conn)[-2:]
    assert sorted(str(e[1]) for e in entries) == ["ann", "bob"]
    first, second = entries
    # Each saw the value the one before it committed: 20 (the blocker's), then the first caller's.
    assert first[3] == {"enabled": True, "rollout_percentage": 20}
    assert second[3] == first[4]
    assert flags_row(flags_conn) == (True, second[4]["rollout_percentage"])  # type: ignore[index]
    by_who = {change.changed_by: change for change in results.values()}
    earlier, later = (by_who[str(first[1])], by_who[str(second[1])])
    assert (earlier.old_percentage, later.old_percentage) == (20, earlier.new_percentage)


def test_a_change_waiting_past_the_lock_timeout_is_refused_cleanly(flags_database_url: str, flags_conn: Conn) -> None:
    with psycopg.connect(flags_database_url) as blocker:
        blocker.execute("SELECT * FROM voice_agent_v2_flags FOR UPDATE")
        flags_conn.execute("SET lock_timeout = '100ms'")
        with pytest.raises(OperationRefused, match="another change to the rollout flags is in progress"):
            flags.update_rollout_percentage(flags_conn, 40, "ann")
    assert flags_row(flags_conn) == (False, 0)


HEALTHY = HealthPolicy(window=timedelta(hours=24), min_calls=50)


def test_advance_starts_the_plan_without_a_gate_and_then_refuses_until_the_step_is_held(
    flags_conn: Conn, sent: list[tuple[str, str, dict[str, object]]]
) -> None:
    add_calls(flags_conn, "v1", 200, failed=4)
    add_calls(flags_conn, "v2", 100, failed=2)
    started = rollout.advance(flags_conn, "ann", policy=HEALTHY)
    assert (started.advanced, started.to_percentage, started.checks) == (True, 5, ())
    held_too_short = rollout.advance(flags_conn, "ann", policy=HEALTHY)
    assert not held_too_short.advanced
    assert held_too_short.refusal is not None and "hold time" in held_too_short.refusal
    assert [c.name for c in held_too_short.failed_checks] == ["hold time"]
    assert flags_row(flags_conn) == (True, 5)
    hold_step_for(flags_conn, 25)
    moved = rollout.advance(flags_conn, "ann", policy=HEALTHY)
    assert (moved.advanced, moved.from_percentage, moved.to_percentage) == (True, 5, 10)
    assert all(check.passed for check in moved.checks)
    last = audit(flags_conn)[-1]
    assert last[0] == "advance" and "error rate ok" in str(last[5])
    assert [kind for kind, _, _ in sent] == ["rollout_advance", "rollout_advance"]


@pytest.mark.parametrize(
    ("v2_failed", "v2_latency", "v2_calls", "failing"),
    [
        (10, 400.0, 100, "error rate"),  # 10 % failed vs v1's 2 %: beyond the 1-point margin
        (2, 480.0, 100, "p95 latency"),  # 480 ms vs 400 ms: beyond the 10 % margin
        (0, 400.0, 10, "enough calls"),  # too few v2 calls to judge
    ],
)
def test_advance_refuses_when_the_v2_cohort_is_worse_and_prints_the_evidence(
    flags_conn: Conn, v2_failed: int, v2_latency: float, v2_calls: int, failing: str
) -> None:
    flags.update_rollout_percentage(flags_conn, 25, "ann")
    hold_step_for(flags_conn, 30)
    add_calls(flags_conn, "v1", 200, failed=4, latency_ms=400)
    add_calls(flags_conn, "v2", v2_calls, failed=v2_failed, latency_ms=v2_latency)
    before = len(audit(flags_conn))
    result = rollout.advance(flags_conn, "ann", policy=HEALTHY)
    assert not result.advanced
    assert [c.name for c in result.failed_checks] == [failing]
    assert result.refusal is not None and failing in result.refusal
    assert flags_row(flags_conn) == (True, 25)
    assert len(audit(flags_conn)) == before


def test_calls_outside_the_window_do_not_count(flags_conn: Conn) -> None:
    flags.update_rollout_percentage(flags_conn, 50, "ann")
    hold_step_for(flags_conn, 49)
    add_calls(flags_conn, "v1", 200, failed=4)
    add_calls(flags_conn, "v2", 100, failed=50, age="3 days")  # an old, bad day
    add_calls(flags_conn, "v2", 100, failed=1)
    assert rollout.advance(flags_conn, "ann", policy=HEALTHY).to_percentage == 75
    assert flags_row(flags_conn) == (True, 75)


def test_forced_advance_goes_past_a_failed_gate_and_says_so_in_the_audit(flags_conn: Conn) -> None:
    flags.update_rollout_percentage(flags_conn, 10, "ann")
    result = rollout.advance(flags_conn, "ann", policy=HEALTHY, force=True, reason="CEO demo")
    assert (result.advanced, result.to_percentage) == (True, 25)
    assert {c.name for c in result.failed_checks} >= {"hold time", "enough calls"}
    action, _, _, _, new, reason = audit(flags_conn)[-1]
    assert action == "advance_forced" and new == {"enabled": True, "rollout_percentage": 25}
    assert str(reason).startswith("CEO demo | FORCED past failed checks")


def test_advance_never_turns_v2_back_on_after_a_total_rollback(flags_conn: Conn) -> None:
    flags.update_rollout_percentage(flags_conn, 25, "ann")
    rollout.rollback_total(flags_conn, "incident", "bob")
    result = rollout.advance(flags_conn, "ann", policy=HEALTHY, force=True)
    assert not result.advanced and result.refusal is not None and "master switch is off" in result.refusal
    assert flags_row(flags_conn) == (False, 25)


def test_advance_at_the_last_step_has_nothing_to_do(flags_conn: Conn) -> None:
    flags.update_rollout_percentage(flags_conn, 100, "ann")
    result = rollout.advance(flags_conn, "ann", policy=HEALTHY)
    assert (result.advanced, result.to_percentage, result.refusal) == (False, None, None)


def test_a_custom_plan_and_hold_times_are_honoured(flags_conn: Conn) -> None:
    plan = RolloutPlan.parse("20:2h,100")
    add_calls(flags_conn, "v1", 100)
    add_calls(flags_conn, "v2", 100)
    assert rollout.advance(flags_conn, "ann", plan=plan, policy=HEALTHY).to_percentage == 20
    hold_step_for(flags_conn, 1)
    assert not rollout.advance(flags_conn, "ann", plan=plan, policy=HEALTHY).advanced
    hold_step_for(flags_conn, 3)
    assert rollout.advance(flags_conn, "ann", plan=plan, policy=HEALTHY).to_percentage == 100


def test_the_default_plan_is_the_runbooks() -> None:
    assert [(s.percentage, s.hold.total_seconds() / 3600) for s in DEFAULT_PLAN.steps] == [
        (5, 24),
        (10, 24),
        (25, 24),
        (50, 48),
        (75, 48),
        (100, 0),
    ]
    assert DEFAULT_PLAN.hold_for(30) == timedelta(hours=24)  # off-plan: the step below decides
    assert DEFAULT_PLAN.next_step(30) is not None and DEFAULT_PLAN.next_step(30).percentage == 50  # type: ignore[union-attr]


def test_status_reports_flags_tenants_and_the_last_24_hours_of_calls(flags_conn: Conn) -> None:
    tenants = add_tenants(flags_conn, 400)
    flags.update_rollout_percentage(flags_conn, 30, "ann")
    flags.disable_tenant_for_v2(flags_conn, tenants[0], "ann")
    add_calls(flags_conn, "v1", 80, failed=8, latency_ms=300)
    add_calls(flags_conn, "v2", 20, failed=1, latency_ms=500)
    add_calls(flags_conn, "v2", 50, failed=50, age="2 days")
    status = flags.get_rollout_status(flags_conn)
    in_v2 = flags_conn.execute("SELECT count(*) FROM tenants WHERE voice_agent_v2_enabled(id)").fetchone()
    assert (status.enabled, status.percentage, status.total_tenants) == (True, 30, 400)
    assert (status.tenants_in_v2,) == in_v2 and 80 < status.tenants_in_v2 < 160
    assert (status.overrides_enabled, status.overrides_disabled) == (0, 1)
    assert (status.v1.calls, status.v2.calls) == (80, 20)
    assert (status.v1.error_rate, status.v2.error_rate) == (0.1, 0.05)
    assert (status.v1.p95_latency_ms, status.v2.p95_latency_ms) == (300.0, 500.0)
    assert status.as_dict()["metrics"] == {
        "window_hours": 24.0,
        "v1_calls": 80,
        "v2_calls": 20,
        "v1_error_rate": 0.1,
        "v2_error_rate": 0.05,
        "v1_p95_latency_ms": 300.0,
        "v2_p95_latency_ms": 500.0,
    }


def test_flag_operations_on_a_v1_database_say_to_upgrade(v1_conn: Conn) -> None:
    with pytest.raises(OperationRefused, match="alembic upgrade head"):
        flags.get_rollout_status(v1_conn)
    with pytest.raises(OperationRefused, match="alembic upgrade head"):
        flags.update_rollout_percentage(v1_conn, 5, "ann")
