"""``rollout watch`` in Python: simulated traffic on a simulated clock, real PostgreSQL, no sleeps.

Each window of traffic is a batch of v1 and v2 calls inserted just before the evaluation's clock, with the
error rate and latency the test chooses; the health window is as long as the watch interval, so every
evaluation judges exactly the latest window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.conftest import add_calls, add_tenants
from tests.helpers import wait_for_lock_waiters
from voice_migration import flags
from voice_migration.infra.errors import OperationRefused
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions
from voice_migration.rollout import changes
from voice_migration.rollout.health import HealthPolicy
from voice_migration.rollout.plan import RolloutPlan
from voice_migration.rollout.watch import (
    WATCH_ACTOR,
    Evaluation,
    WatchConfig,
    WatcherBusy,
    current_pause,
    evaluate_once,
    resume,
    run_watch,
    watch_history,
)

Conn = psycopg.Connection[tuple[object, ...]]
INTERVAL = timedelta(minutes=10)
POLICY = HealthPolicy(window=INTERVAL, min_calls=50)
PLAN = RolloutPlan.parse("5:30m,10:30m,25:30m,50:30m,75:30m,100")

Sent = list[tuple[str, str, dict[str, object]]]


@dataclass
class SimClock:
    """The evaluations' clock: starts at the database's now and moves only when told."""

    now: datetime

    def tick(self, delta: timedelta = INTERVAL) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture()
def conn(head_database_url: str) -> Iterator[Conn]:
    with psycopg.connect(head_database_url, autocommit=True) as connection:
        add_tenants(connection, 20)
        yield connection


@pytest.fixture()
def clock(conn: Conn) -> SimClock:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None and isinstance(row[0], datetime)
    return SimClock(row[0])


def window(conn: Conn, at: datetime, *, v2_failed: int = 1, v2_latency: float = 400.0, calls: int = 100) -> None:
    """One window of traffic ending at ``at``: v1 fails 1 % at 400 ms; v2 as given (same volume)."""
    add_calls(conn, "v1", calls, failed=calls // 100, latency_ms=400.0, at=at - timedelta(minutes=1))
    add_calls(conn, "v2", calls, failed=v2_failed, latency_ms=v2_latency, at=at - timedelta(minutes=1))


def watch(conn: Conn, clock: SimClock, sent: Sent, **options: object) -> Evaluation:
    """One evaluation at the clock's current time, notifications captured."""
    return evaluate_once(
        conn,
        now=clock.now,
        plan=PLAN,
        policy=POLICY,
        interval=INTERVAL,
        notify=lambda kind, message, details: sent.append((kind, message, dict(details))),
        **options,  # type: ignore[arg-type]
    )


def flags_row(conn: Conn) -> tuple[object, ...] | None:
    return conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchone()


def watcher_audit(conn: Conn) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT action, old_value->'rollout_percentage', new_value->'rollout_percentage', new_value->'enabled', "
        "reason FROM voice_agent_v2_flag_audit WHERE changed_by = %s ORDER BY id",
        (WATCH_ACTOR,),
    ).fetchall()


def test_a_degrading_v2_is_rolled_back_within_two_windows_audited_notified_and_paused(
    conn: Conn, clock: SimClock
) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 25, "ann")
    window(conn, clock.tick())
    assert watch(conn, clock, sent, auto_rollback=True).verdict == "healthy"

    window(conn, clock.tick(), v2_failed=10)  # v2 10 % failed against v1's 1 %
    first = watch(conn, clock, sent, auto_rollback=True)
    assert (first.verdict, first.failures, first.action) == ("degraded", 1, "none")
    window(conn, clock.tick(), v2_failed=10)
    second = watch(conn, clock, sent, auto_rollback=True)

    assert (second.verdict, second.failures, second.action) == ("degraded", 2, "rollback")
    assert flags_row(conn) == (True, 10)  # the plan's step below 25 %
    [(action, old, new, enabled, reason)] = watcher_audit(conn)
    assert (action, old, new, enabled) == ("rollback_partial", 25, 10, True)
    assert "automatic rollback by rollout-watch" in str(reason)
    assert "v1: 100 calls, 1.00 % failed" in str(reason) and "v2: 100 calls, 10.00 % failed" in str(reason)
    [(kind, message, details)] = sent
    assert kind == "rollout_watch_rollback"
    assert "ROLLED BACK automatically from 25 % to 10 %: v2 was worse" in message and "PAUSED" in message
    assert details["v2"] == "v2: 100 calls, 10.00 % failed, p95 400 ms"
    assert "error rate FAILED" in str(details["checks"]) and "rollout resume" in str(details["next steps"])
    pause = current_pause(conn)
    assert pause is not None and pause.paused_by == WATCH_ACTOR and second.pause == pause

    for _ in range(3):  # still bad, but paused: no further rollback, no new notification
        window(conn, clock.tick(), v2_failed=10)
        paused = watch(conn, clock, sent, auto_rollback=True, auto_advance=True)
        assert paused.action == "none" and "paused since" in paused.note
    assert flags_row(conn) == (True, 10) and len(sent) == 1

    resumed = resume(conn, "ann", reason="v2 hotfix deployed")
    assert resumed is not None and resumed.resumed_by == "ann" and current_pause(conn) is None
    assert resume(conn, "ann") is None  # nothing left to resume
    window(conn, clock.tick(), v2_failed=10)
    restarted = watch(conn, clock, sent, auto_rollback=True)
    assert (restarted.failures, restarted.action) == (1, "none") and "resumed" in restarted.note
    window(conn, clock.tick(), v2_failed=10)
    assert watch(conn, clock, sent, auto_rollback=True).action == "rollback"
    assert flags_row(conn) == (True, 5)

    resume(conn, "ann")
    for _ in range(2):
        window(conn, clock.tick(), v2_failed=10)
        last = watch(conn, clock, sent, auto_rollback=True)
    assert last.action == "rollback" and flags_row(conn) == (False, 5)  # at the first step: master switch off
    assert "from 5 % to OFF for every tenant (master switch off)" in sent[-1][1]
    assert [row[0] for row in watcher_audit(conn)] == ["rollback_partial", "rollback_partial", "rollback_total"]
    assert [entry.action for entry in watch_history(conn, limit=3)] == ["rollback", "none", "rollback"]


def test_a_healthy_v2_advances_step_by_step_through_the_plan(conn: Conn, clock: SimClock) -> None:
    sent: Sent = []
    changes.advance(conn, "ann", plan=PLAN)  # a person starts the plan at 5 %; the watcher never does
    seen: list[Evaluation] = []

    def next_window(seconds: float) -> None:
        window(conn, clock.tick(timedelta(seconds=seconds)))

    window(conn, clock.tick())
    ran = run_watch(
        lambda: psycopg.connect(conn.info.dsn, autocommit=True),
        WatchConfig(auto_rollback=True, auto_advance=True, plan=PLAN, policy=POLICY, interval=INTERVAL),
        on_evaluation=seen.append,
        notify=lambda kind, message, details: sent.append((kind, message, dict(details))),
        clock=lambda: clock.now,
        sleep=next_window,
        max_evaluations=14,
    )

    assert ran == 14
    moves = [(row[1], row[2]) for row in watcher_audit(conn)]
    assert moves == [(5, 10), (10, 25), (25, 50), (50, 75), (75, 100)]
    assert {row[0] for row in watcher_audit(conn)} == {"advance"}
    reasons = [str(row[4]) for row in watcher_audit(conn)]
    assert all("automatic advance by rollout-watch after" in r and "hold time ok" in r for r in reasons), reasons
    # The first step began on the database's clock just after ours started: its 30 min hold ends after the
    # third window; every later step is held long enough by then, so each needs two healthy windows in a row.
    assert [e.action for e in seen] == ["none", "none", "none", "advance"] + ["none", "advance"] * 4 + ["none"] * 2
    assert "last step of the plan" in seen[-1].note
    assert [kind for kind, _, _ in sent] == ["rollout_advance"] * 5
    assert "v1: 100 calls" in str(sent[0][2]["v1"])
    assert flags_row(conn) == (True, 100)


def test_the_watcher_waits_for_the_hold_time_before_advancing(conn: Conn) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 25, "ann")
    add_calls(conn, "v1", 100, failed=1, age="1 minute")
    add_calls(conn, "v2", 100, failed=1, age="1 minute")
    plan = RolloutPlan.parse("5:24h,10:24h,25:24h,50,100")
    for _ in range(3):  # the database's clock: the step began seconds ago
        evaluation = evaluate_once(conn, auto_advance=True, plan=plan, policy=POLICY, notify=lambda *a: None)
    assert evaluation.action == "none" and not evaluation.hold.passed
    assert "next step 50 % after the hold" in evaluation.note
    assert flags_row(conn) == (True, 25) and sent == []


def test_a_borderline_v2_neither_advances_nor_flaps(conn: Conn, clock: SimClock) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 25, "ann")
    seen = []
    # v1 fails 1 %, the margin is 1 point: v2 alternates just over (2.5 %) and just under (1.5 %) the 2 % limit,
    # with a thin window (too few calls to judge) now and then.
    for v2_failed, calls in [(5, 200), (3, 200), (5, 200), (1, 20), (3, 200), (5, 200), (3, 200), (5, 200)]:
        window(conn, clock.tick(timedelta(hours=1)), v2_failed=v2_failed, calls=calls)
        seen.append(watch(conn, clock, sent, auto_rollback=True, auto_advance=True))
    verdicts = [e.verdict for e in seen]
    assert verdicts == ["degraded", "healthy", "degraded", "inconclusive", "healthy", "degraded", "healthy", "degraded"]
    assert max(e.failures for e in seen) == 1 and max(e.successes for e in seen) == 1
    assert {e.action for e in seen} == {"none"}
    assert flags_row(conn) == (True, 25) and watcher_audit(conn) == [] and sent == []


def test_a_change_by_a_person_between_evaluations_restarts_the_count(conn: Conn, clock: SimClock) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 25, "ann")
    window(conn, clock.tick(), v2_failed=10)
    assert watch(conn, clock, sent, auto_rollback=True).failures == 1
    flags.disable_tenant_for_v2(conn, "tenant-7", "bob", reason="its webhooks fail")  # a person acts
    window(conn, clock.tick(), v2_failed=10)
    after = watch(conn, clock, sent, auto_rollback=True)
    assert (after.failures, after.action) == (1, "none")
    assert "count restarted: 1 flag change(s) by bob" in after.note
    window(conn, clock.tick(), v2_failed=10)
    assert watch(conn, clock, sent, auto_rollback=True).action == "rollback"


def test_without_auto_rollback_a_degraded_v2_is_reported_once_and_left_alone(conn: Conn, clock: SimClock) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 25, "ann")
    for _ in range(4):
        window(conn, clock.tick(), v2_latency=900.0)  # p95 900 ms against v1's 400 ms
        evaluation = watch(conn, clock, sent)
    assert evaluation.verdict == "degraded" and "would roll back to 10 %" in evaluation.note
    assert [kind for kind, _, _ in sent] == ["rollout_watch_degraded"]
    assert flags_row(conn) == (True, 25) and watcher_audit(conn) == []


def test_two_watchers_only_one_acts_and_the_other_takes_over_when_it_is_gone(
    conn: Conn, clock: SimClock, caplog: pytest.LogCaptureFixture
) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 50, "ann")
    first = psycopg.connect(conn.info.dsn, autocommit=True)
    second = psycopg.connect(conn.info.dsn, autocommit=True)
    try:
        for _ in range(2):
            window(conn, clock.tick(), v2_failed=10)
            watch(first, clock, sent, auto_rollback=True)
            with pytest.raises(WatcherBusy, match=r"another rollout watcher is running \(server pid \d+"):
                watch(second, clock, sent, auto_rollback=True)
        assert flags_row(conn) == (True, 25) and len(watcher_audit(conn)) == 1

        seen: list[Evaluation] = []

        def first_goes_away(seconds: float) -> None:
            first.close()

        with caplog.at_level(logging.WARNING, logger="voice_migration.rollout.watch"):
            run_watch(
                lambda: second,
                WatchConfig(auto_rollback=True, plan=PLAN, policy=POLICY, interval=INTERVAL),
                on_evaluation=seen.append,
                clock=lambda: clock.now,
                sleep=first_goes_away,
                max_evaluations=1,
            )
        messages = [record.getMessage() for record in caplog.records]
        assert sum("standing by" in m for m in messages) == 1
        assert any("this one now evaluates and acts" in m for m in messages)
        assert seen[0].action == "none" and "paused since" in seen[0].note  # it carries on from the record
    finally:
        first.close()
        second.close()
    assert len(watcher_audit(conn)) == 1 and len(sent) == 1


def test_the_watcher_refuses_a_database_without_its_tables(flags_conn: Conn) -> None:
    with pytest.raises(OperationRefused, match="not at revision 0011_rollout_watch"):
        evaluate_once(flags_conn)


def test_every_evaluation_is_recorded_with_both_cohorts_and_its_checks(conn: Conn, clock: SimClock) -> None:
    flags.update_rollout_percentage(conn, 10, "ann")
    window(conn, clock.tick(), v2_failed=2, v2_latency=420.0)
    evaluation = watch(conn, clock, [])
    row = conn.execute(
        "SELECT evaluated_at, watcher, percentage, v1_calls, v1_failed_calls, v2_calls, v2_failed_calls, "
        "v2_p95_latency_ms, verdict, action, jsonb_array_length(checks), checks->1->>'name' "
        "FROM voice_migration.rollout_evaluations WHERE id = %s",
        (evaluation.id,),
    ).fetchone()
    assert row == (clock.now, WATCH_ACTOR, 10, 100, 1, 100, 2, 420.0, "healthy", "none", 4, "enough calls")
    shown = evaluation.as_dict()
    assert shown["v2"] == {"calls": 100, "failed_calls": 2, "error_rate": 0.02, "p95_latency_ms": 420.0}
    assert [c["name"] for c in shown["checks"]] == ["hold time", "enough calls", "error rate", "p95 latency"]  # type: ignore[index, union-attr]


def test_the_downgrade_of_0011_drops_the_watch_tables_and_history_still_reads(head_database_url: str) -> None:
    settings = load_settings(head_database_url, env={})
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        flags.update_rollout_percentage(conn, 5, "ann")
        evaluate_once(conn, notify=lambda *message: None)
    revisions.downgrade(settings, "0010_monitoring")
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT to_regclass('voice_migration.rollout_evaluations'), to_regclass('voice_migration.rollout_pauses')"
        ).fetchone()
        assert tables == (None, None)
        assert watch_history(conn) == []
        assert [entry.action for entry in changes.rollout_history(conn)] == ["set_percentage", "install"]
    revisions.upgrade(settings, "head")
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        assert evaluate_once(conn, notify=lambda *message: None).id == 1


def test_a_person_acting_while_the_watcher_decides_wins_and_the_watcher_does_not_act(
    conn: Conn, clock: SimClock
) -> None:
    sent: Sent = []
    flags.update_rollout_percentage(conn, 50, "ann")
    window(conn, clock.tick(), v2_failed=10)
    watch(conn, clock, sent, auto_rollback=True)
    window(conn, clock.tick(), v2_failed=10)
    results: list[Evaluation] = []
    with psycopg.connect(conn.info.dsn) as person:
        person.execute("SELECT * FROM voice_agent_v2_flags FOR UPDATE")  # a person's change is in flight
        watcher = threading.Thread(target=lambda: results.append(watch(conn, clock, sent, auto_rollback=True)))
        watcher.start()
        with psycopg.connect(conn.info.dsn, autocommit=True) as observer:
            assert wait_for_lock_waiters(observer, 1) == 1, "the watcher should wait for the flags row"
        person.execute(
            "SELECT set_config('voice_agent_v2.changed_by', 'bob', true); "
            "UPDATE voice_agent_v2_flags SET rollout_percentage = 10"
        )
        person.commit()
    watcher.join(timeout=30)
    [evaluation] = results
    assert (evaluation.verdict, evaluation.failures, evaluation.action) == ("degraded", 2, "none")
    assert "the flags changed while evaluating" in evaluation.note
    assert flags_row(conn) == (True, 10) and watcher_audit(conn) == [] and sent == []
    window(conn, clock.tick(), v2_failed=10)
    assert watch(conn, clock, sent, auto_rollback=True).failures == 1  # bob's change restarted the count
