"""The hands-off canary: evaluate the advance gate on a schedule, roll a degrading v2 back, advance a healthy one.

* :func:`evaluate_once` — one evaluation: the same health gate as ``rollout advance``
  (:func:`voice_migration.rollout.health.evaluate_health`, the plan's hold time), recorded in
  ``voice_migration.rollout_evaluations``, and at most one action:

  - **rollback** (``auto_rollback``) after ``consecutive`` degraded evaluations in a row: the percentage
    drops to the plan's previous step, or the master switch goes off at the first step; audited as the
    watcher (``by``, default ``rollout-watch``) with both cohorts' numbers, notified, and the watcher is
    then **paused** (``voice_migration.rollout_pauses``) until a person runs :func:`resume`;
  - **advance** (``auto_advance``) after ``consecutive`` healthy evaluations in a row once the step's hold
    time has passed: exactly :func:`voice_migration.rollout.changes.advance`, audited as the watcher.

* :func:`run_watch` — the loop: an evaluation every ``interval``; one acting watcher at a time (a session
  advisory lock; a second watcher stands by and takes over when the first one's connection ends); a lost
  or unreachable database is logged once and retried with back-off, and nothing is decided on it.

Counting (Flagger's canary analysis, with a consecutive threshold): a *degraded* evaluation has enough calls
in both cohorts and v2 worse than v1 beyond a margin; *healthy* passes every health check; *inconclusive*
(too few calls, nothing to compare) neither counts nor breaks a run; *off* (master switch off) resets.
The counts start again after any action of the watcher, a flag change by anybody else (read from the flag
audit), a ``resume``, a change of the flags it did not make, or a gap of more than
:data:`STALE_AFTER_INTERVALS` intervals since the previous evaluation. They live in the database, so a
restarted or standby watcher carries on where the last one stopped.

Time is injectable: ``now`` ends the health window and the hold time (default: the database's clock), and
the loop takes ``clock`` and ``sleep`` callables, so tests simulate days of traffic without sleeping.
The core neither prints nor sends: it reports through ``on_evaluation`` and ``notify`` (default
``voice_migration.infra.notify.send_notification``) and logs one-line events.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache

import psycopg

from voice_migration.infra.errors import ConnectionFailed, OperationRefused, UsageError
from voice_migration.infra.resources import read_sql
from voice_migration.rollout import changes
from voice_migration.rollout.health import (
    CohortStats,
    GateCheck,
    HealthPolicy,
    HealthReport,
    evaluate_health,
    format_duration,
)
from voice_migration.rollout.plan import DEFAULT_PLAN, RolloutPlan
from voice_migration.rollout.state import (
    Conn,
    FlagChange,
    FlagState,
    Notifier,
    as_datetime,
    as_int,
    flag_change,
    flags_row_missing,
    require_actor,
)

log = logging.getLogger(__name__)

WATCH_ACTOR = "rollout-watch"
DEFAULT_CONSECUTIVE = 2
DEFAULT_INTERVAL = timedelta(minutes=5)
STALE_AFTER_INTERVALS = 3
"""A previous evaluation older than this many intervals does not continue a run of bad (or good) ones."""

HEALTHY, DEGRADED, INCONCLUSIVE, OFF = "healthy", "degraded", "inconclusive", "off"
NO_ACTION, ADVANCE, ROLLBACK = "none", "advance", "rollback"


@cache
def watch_sql(name: str) -> str:
    """The text of ``sql/watch/<name>.sql`` (read once per process)."""
    return read_sql(f"watch/{name}.sql")


class WatcherBusy(OperationRefused):
    """Another session holds the rollout watcher lock: this one did not evaluate (exit 1)."""


@dataclass(frozen=True)
class Pause:
    """A pause of the watcher: opened by its automatic rollback, closed by a person's ``resume``."""

    id: int
    paused_at: datetime
    paused_by: str
    reason: str
    resumed_at: datetime | None = None
    resumed_by: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: what the watcher saw (flags, both cohorts, every check), concluded and did."""

    id: int
    evaluated_at: datetime
    watcher: str
    enabled: bool
    percentage: int
    health: HealthReport
    hold: GateCheck
    verdict: str
    failures: int
    successes: int
    consecutive: int
    action: str
    note: str
    change: FlagChange | None = None
    pause: Pause | None = None

    @property
    def checks(self) -> tuple[GateCheck, ...]:
        """The hold time and the health checks, as ``rollout advance`` shows them."""
        return (self.hold, *self.health.checks)

    def describe(self) -> str:
        """One line: when, where, the verdict with its count, both cohorts, and what was done or why not."""
        count = ""
        if self.verdict == DEGRADED:
            count = f" ({self.failures}/{self.consecutive})"
        elif self.verdict == HEALTHY:
            count = f" ({self.successes}/{self.consecutive})"
        return (
            f"#{self.id} {self.evaluated_at:%Y-%m-%d %H:%M:%S %Z} at {self.percentage} %"
            f"{'' if self.enabled else ' (switch off)'}: {self.verdict}{count}; "
            f"{self.health.v1.describe()} | {self.health.v2.describe()} -> {self.action}: {self.note}"
        )

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (timestamps ISO 8601, error rates as fractions)."""
        return {
            "id": self.id,
            "evaluated_at": self.evaluated_at.isoformat(),
            "watcher": self.watcher,
            "enabled": self.enabled,
            "percentage": self.percentage,
            "window_seconds": self.health.window.total_seconds(),
            "v1": _cohort_dict(self.health.v1),
            "v2": _cohort_dict(self.health.v2),
            "checks": [_check_dict(check) for check in self.checks],
            "verdict": self.verdict,
            "failures": self.failures,
            "successes": self.successes,
            "consecutive": self.consecutive,
            "action": self.action,
            "note": self.note,
            "change": None if self.change is None else self.change.details(),
            "paused": None
            if self.pause is None
            else {"since": self.pause.paused_at.isoformat(), "by": self.pause.paused_by, "reason": self.pause.reason},
        }


@dataclass(frozen=True)
class _Context:
    """What the evaluation read in its snapshot besides the cohorts (``sql/watch/context.sql``)."""

    enabled: bool
    percentage: int
    step_started_at: datetime
    evaluated_at: datetime
    audit_max: int | None
    pause: Pause | None
    previous_at: datetime | None
    previous_flags: tuple[bool, int] | None
    previous_action: str | None
    previous_failures: int
    previous_successes: int
    previous_paused: bool
    others_changes: int
    others: str | None


def evaluate_once(
    conn: Conn,
    *,
    now: datetime | None = None,
    auto_rollback: bool = False,
    auto_advance: bool = False,
    consecutive: int = DEFAULT_CONSECUTIVE,
    by: str = WATCH_ACTOR,
    plan: RolloutPlan = DEFAULT_PLAN,
    policy: HealthPolicy | None = None,
    interval: timedelta = DEFAULT_INTERVAL,
    notify: Notifier | None = None,
) -> Evaluation:
    """Evaluate the gate once, record the evaluation, and roll back or advance when asked and due.

    ``conn`` (autocommit, outside a transaction) takes the watcher lock for its session and keeps it
    (:class:`WatcherBusy` when another session holds it). ``now`` ends the health window and the hold
    time (default: the database's clock). ``interval`` is how often evaluations are expected (a gap of
    more than :data:`STALE_AFTER_INTERVALS` of them starts the counts again). ``notify`` receives
    ``(kind, message, details)`` after an action commits (default: Slack/e-mail via
    ``voice_migration.infra.notify``). A connection lost midway raises ``psycopg.OperationalError`` and
    leaves nothing half-done: reads share one snapshot, and each write is one transaction.
    """
    actor = require_actor(by)
    if not conn.autocommit:
        raise UsageError("evaluate_once needs an autocommit connection: it commits each of its steps itself")
    if consecutive < 1:
        raise UsageError(f"--consecutive must be at least 1, got {consecutive}")
    policy = policy or HealthPolicy()
    send = notify or _default_notify
    _take_lock(conn)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        context = _read_context(conn, now, actor)
        health = evaluate_health(conn, policy, now=context.evaluated_at)
    hold = changes.hold_check(plan, context.percentage, context.evaluated_at - context.step_started_at)
    verdict = _verdict(context, health)
    failures, successes, reset = _counts(context, verdict, interval)

    decision = _Decision(NO_ACTION, _why_nothing(context, verdict, failures, successes, consecutive, reset))
    if context.pause is not None:
        decision = _Decision(
            NO_ACTION,
            f"paused since {context.pause.paused_at:%Y-%m-%d %H:%M} UTC by {context.pause.paused_by} "
            f"({context.pause.reason}); neither advancing nor rolling back until "
            "`voice-migration rollout resume --by WHO`",
        )
    elif verdict == DEGRADED and failures >= consecutive:
        target = _rollback_target(plan, context)
        if auto_rollback:
            decision = _Decision(ROLLBACK, f"rolling back to {target}")
        else:
            decision = _Decision(NO_ACTION, f"v2 degraded; would roll back to {target} (auto-rollback is off)")
    elif verdict == HEALTHY and successes >= consecutive and context.percentage > 0:
        step = plan.next_step(context.percentage)
        if step is None:
            decision = _Decision(NO_ACTION, f"healthy at {context.percentage} %, the last step of the plan")
        elif not hold.passed:
            decision = _Decision(NO_ACTION, f"healthy; next step {step.percentage} % after the hold: {hold.evidence}")
        elif auto_advance:
            decision = _Decision(ADVANCE, f"advancing to {step.percentage} %")
        else:
            decision = _Decision(NO_ACTION, f"healthy; would advance to {step.percentage} % (auto-advance is off)")

    record = _Record(context, health, verdict, failures, successes, actor, consecutive)
    if decision.action == ROLLBACK:
        return _roll_back(conn, record, plan, hold, send)
    if decision.action == ADVANCE:
        return _advance(conn, record, plan, policy, hold, send)
    with conn.transaction():
        evaluation = record.store(conn, hold, NO_ACTION, decision.note)
    if verdict == DEGRADED and failures == consecutive and context.pause is None and not auto_rollback:
        send(
            "rollout_watch_degraded",
            f"voice agent v2 is worse than v1 at {context.percentage} % for {failures} evaluations in a row; "
            "auto-rollback is off, so nothing was changed: roll back by hand (`voice-migration rollback`)",
            _evidence(evaluation),
        )
    return evaluation


def resume(conn: Conn, resumed_by: str, *, reason: str | None = None) -> Pause | None:
    """Lift the watcher's pause (a person's decision, recorded with who/when/why); None when not paused.

    The counts start again at the next evaluation, so a rollback needs ``consecutive`` new bad windows.
    """
    actor = require_actor(resumed_by)
    with conn.transaction(), _watch_tables_required():
        row = conn.execute(
            watch_sql("resume"), {"by": actor, "reason": reason.strip() if reason and reason.strip() else None}
        ).fetchone()
    if row is None:
        return None
    return Pause(as_int(row[0]), as_datetime(row[1]), str(row[2]), str(row[3]), as_datetime(row[4]), str(row[5]))


def current_pause(conn: Conn) -> Pause | None:
    """The open pause, if any."""
    with _watch_tables_required():
        row = conn.execute(
            "SELECT id, paused_at, paused_by, reason FROM voice_migration.rollout_pauses WHERE resumed_at IS NULL"
        ).fetchone()
    return None if row is None else Pause(as_int(row[0]), as_datetime(row[1]), str(row[2]), str(row[3]))


@dataclass(frozen=True)
class RecordedEvaluation:
    """One row of the watcher's record, as ``rollout history`` shows it."""

    id: int
    evaluated_at: datetime
    watcher: str
    enabled: bool
    percentage: int
    verdict: str
    failures: int
    successes: int
    action: str
    paused: bool
    note: str
    v1: CohortStats
    v2: CohortStats
    resumed_by: str | None
    resumed_at: datetime | None

    def describe(self) -> str:
        """One history line."""
        resumed = (
            f" (resumed by {self.resumed_by} at {self.resumed_at:%Y-%m-%d %H:%M:%S %Z})"
            if self.resumed_by and self.resumed_at
            else ""
        )
        return (
            f"E{self.id} {self.evaluated_at:%Y-%m-%d %H:%M:%S %Z} watch by {self.watcher} at {self.percentage} %"
            f"{'' if self.enabled else ' off'}: {self.verdict} (bad {self.failures}, good {self.successes}); "
            f"{self.v1.describe()} | {self.v2.describe()} -> {self.action}: {self.note}{resumed}"
        )

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict; ``kind`` tells it from a flag audit entry in ``rollout history --format json``."""
        return {
            "kind": "watch_evaluation",
            "id": self.id,
            "evaluated_at": self.evaluated_at.isoformat(),
            "watcher": self.watcher,
            "enabled": self.enabled,
            "percentage": self.percentage,
            "verdict": self.verdict,
            "failures": self.failures,
            "successes": self.successes,
            "action": self.action,
            "paused": self.paused,
            "note": self.note,
            "v1": _cohort_dict(self.v1),
            "v2": _cohort_dict(self.v2),
            "resumed_by": self.resumed_by,
            "resumed_at": None if self.resumed_at is None else self.resumed_at.isoformat(),
        }


def watch_history(conn: Conn, *, limit: int = 20) -> list[RecordedEvaluation]:
    """The latest ``limit`` evaluations, newest first; empty before revision 0011_rollout_watch."""
    exists = conn.execute("SELECT to_regclass('voice_migration.rollout_evaluations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    rows = conn.execute(watch_sql("history"), {"limit": limit}).fetchall()
    return [
        RecordedEvaluation(
            id=as_int(row[0]),
            evaluated_at=as_datetime(row[1]),
            watcher=str(row[2]),
            enabled=bool(row[3]),
            percentage=as_int(row[4]),
            verdict=str(row[5]),
            failures=as_int(row[6]),
            successes=as_int(row[7]),
            action=str(row[8]),
            paused=bool(row[9]),
            note=str(row[10]),
            v1=CohortStats("v1", as_int(row[11]), as_int(row[12]), _float(row[13])),
            v2=CohortStats("v2", as_int(row[14]), as_int(row[15]), _float(row[16])),
            resumed_by=None if row[17] is None else str(row[17]),
            resumed_at=None if row[18] is None else as_datetime(row[18]),
        )
        for row in rows
    ]


# --- the loop ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchConfig:
    """What :func:`run_watch` passes to every :func:`evaluate_once`."""

    auto_rollback: bool = False
    auto_advance: bool = False
    consecutive: int = DEFAULT_CONSECUTIVE
    by: str = WATCH_ACTOR
    plan: RolloutPlan = DEFAULT_PLAN
    policy: HealthPolicy = field(default_factory=HealthPolicy)
    interval: timedelta = DEFAULT_INTERVAL

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise UsageError("--interval must be positive, e.g. 5m")
        if self.consecutive < 1:
            raise UsageError(f"--consecutive must be at least 1, got {self.consecutive}")


@dataclass(frozen=True)
class Backoff:
    """Retry delays while the database is unreachable: ``first`` seconds, doubling, at most ``limit``."""

    first: float = 1.0
    limit: float = 300.0

    def delay(self, attempt: int, interval: float) -> float:
        """The pause before retry number ``attempt`` (1-based), never longer than the interval."""
        return float(min(self.first * 2.0 ** (attempt - 1), self.limit, interval))


def run_watch(
    connect: Callable[[], Conn],
    config: WatchConfig,
    *,
    on_evaluation: Callable[[Evaluation], None],
    notify: Notifier | None = None,
    clock: Callable[[], datetime | None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
    max_evaluations: int | None = None,
    backoff: Backoff | None = None,
) -> int:
    """Evaluate every ``config.interval`` until ``should_stop()`` (or ``max_evaluations``); return how many ran.

    ``connect`` opens an autocommit connection (``voice_migration.infra.db.connect``). While another
    watcher holds the lock this one logs that once and stands by, trying again every interval. When the
    database cannot be reached or the connection is lost, it logs one line, decides nothing, and
    reconnects after ``backoff`` delays (1 s, 2 s, 4 s ... at most the interval), logging again when it
    is back. ``clock`` gives each evaluation's ``now`` (None: the database's); ``sleep`` waits.
    """
    backoff = backoff or Backoff()
    interval = config.interval.total_seconds()
    conn: Conn | None = None
    done = attempts = 0
    standing_by = False
    try:
        while not should_stop() and (max_evaluations is None or done < max_evaluations):
            try:
                if conn is None:
                    conn = connect()
                evaluation = evaluate_once(
                    conn,
                    now=clock(),
                    auto_rollback=config.auto_rollback,
                    auto_advance=config.auto_advance,
                    consecutive=config.consecutive,
                    by=config.by,
                    plan=config.plan,
                    policy=config.policy,
                    interval=config.interval,
                    notify=notify,
                )
            except WatcherBusy as exc:
                if not standing_by:
                    log.warning("%s; standing by, trying again every %s", exc.message, format_duration(config.interval))
                    standing_by = True
                sleep(interval)
                continue
            except (psycopg.OperationalError, psycopg.InterfaceError, ConnectionFailed) as exc:
                _close(conn)
                conn = None
                attempts += 1
                if attempts == 1:
                    log.warning(
                        "rollout watch: the database is unreachable (%s); deciding nothing until it answers, "
                        "retrying with back-off up to every %s",
                        _one_line(exc),
                        format_duration(timedelta(seconds=min(backoff.limit, interval))),
                    )
                else:
                    log.debug("rollout watch: attempt %d failed: %s", attempts, _one_line(exc))
                sleep(backoff.delay(attempts, interval))
                continue
            except OperationRefused as exc:
                if not isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
                    raise
                log.warning("rollout watch: %s; trying again in %s", exc.message, format_duration(config.interval))
                sleep(interval)
                continue
            if attempts:
                log.warning("rollout watch: the database answers again after %d failed attempt(s)", attempts)
                attempts = 0
            if standing_by:
                log.warning("rollout watch: the other watcher is gone; this one now evaluates and acts")
                standing_by = False
            done += 1
            on_evaluation(evaluation)
            if not should_stop() and (max_evaluations is None or done < max_evaluations):
                sleep(interval)
    finally:
        _close(conn)
    return done


# --- inside an evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    action: str
    note: str


@dataclass(frozen=True)
class _Record:
    """An evaluation's findings, ready to be stored with the action taken."""

    context: _Context
    health: HealthReport
    verdict: str
    failures: int
    successes: int
    watcher: str
    consecutive: int

    def store(
        self,
        conn: Conn,
        hold: GateCheck,
        action: str,
        note: str,
        *,
        audit_id: int | None = None,
        change: FlagChange | None = None,
        pause: Pause | None = None,
        paused: bool | None = None,
    ) -> Evaluation:
        """Insert the evaluation row (in the caller's transaction) and return the evaluation."""
        context, v1, v2 = self.context, self.health.v1, self.health.v2
        checks = [_check_dict(check) for check in (hold, *self.health.checks)]
        is_paused = (context.pause is not None) if paused is None else paused
        row = conn.execute(
            watch_sql("record_evaluation"),
            {
                "evaluated_at": context.evaluated_at,
                "watcher": self.watcher,
                "enabled": context.enabled,
                "percentage": context.percentage,
                "window": self.health.window,
                "v1_calls": v1.calls,
                "v1_failed": v1.failed_calls,
                "v1_p95": v1.p95_latency_ms,
                "v2_calls": v2.calls,
                "v2_failed": v2.failed_calls,
                "v2_p95": v2.p95_latency_ms,
                "checks": json.dumps(checks),
                "verdict": self.verdict,
                "failures": self.failures,
                "successes": self.successes,
                "paused": is_paused,
                "action": action,
                "audit_id": audit_id,
                "audit_seen": audit_id if audit_id is not None else context.audit_max,
                "note": note,
            },
        ).fetchone()
        assert row is not None
        return Evaluation(
            id=as_int(row[0]),
            evaluated_at=context.evaluated_at,
            watcher=self.watcher,
            enabled=context.enabled,
            percentage=context.percentage,
            health=self.health,
            hold=hold,
            verdict=self.verdict,
            failures=self.failures,
            successes=self.successes,
            consecutive=self.consecutive,
            action=action,
            note=note,
            change=change,
            pause=pause if pause is not None else context.pause,
        )


def _take_lock(conn: Conn) -> None:
    with _watch_tables_required():
        row = conn.execute(watch_sql("lock")).fetchone()
    if row and row[0]:
        return
    holder = conn.execute(watch_sql("lock_holder")).fetchone()
    who = ""
    if holder is not None:
        who = f" (server pid {holder[0]}, {holder[1] or 'no application name'}, {holder[2]}, since {holder[3]} UTC)"
    raise WatcherBusy(
        f"another rollout watcher is running{who}: only one evaluates and acts at a time; this one did not evaluate"
    )


def _read_context(conn: Conn, now: datetime | None, actor: str) -> _Context:
    with _watch_tables_required():
        row = conn.execute(watch_sql("context"), {"now": now, "by": actor}).fetchone()
    if row is None:
        raise flags_row_missing()
    pause = None if row[5] is None else Pause(as_int(row[5]), as_datetime(row[6]), str(row[7]), str(row[8]))
    return _Context(
        enabled=bool(row[0]),
        percentage=as_int(row[1]),
        step_started_at=as_datetime(row[2]),
        evaluated_at=as_datetime(row[3]),
        audit_max=None if row[4] is None else as_int(row[4]),
        pause=pause,
        previous_at=None if row[9] is None else as_datetime(row[10]),
        previous_flags=None if row[9] is None else (bool(row[11]), as_int(row[12])),
        previous_action=None if row[13] is None else str(row[13]),
        previous_failures=0 if row[14] is None else as_int(row[14]),
        previous_successes=0 if row[15] is None else as_int(row[15]),
        previous_paused=bool(row[16]),
        others_changes=as_int(row[17]),
        others=None if row[18] is None else str(row[18]),
    )


def _verdict(context: _Context, health: HealthReport) -> str:
    """healthy / degraded / inconclusive / off, from the gate's health checks (the hold time is not health)."""
    if not context.enabled:
        return OFF
    by_name = {check.name: check for check in health.checks}
    if not by_name["enough calls"].passed:
        return INCONCLUSIVE
    if health.passed:
        return HEALTHY
    v1, v2 = health.v1, health.v2
    worse_errors = not by_name["error rate"].passed and v1.error_rate is not None and v2.error_rate is not None
    slower = not by_name["p95 latency"].passed and v1.p95_latency_ms is not None and v2.p95_latency_ms is not None
    return DEGRADED if worse_errors or slower else INCONCLUSIVE


def _counts(context: _Context, verdict: str, interval: timedelta) -> tuple[int, int, str | None]:
    """The consecutive degraded and healthy counts after this evaluation, and why they restarted (if so)."""
    reset = None
    if context.previous_at is None:
        reset = "first evaluation"
    elif context.previous_action != NO_ACTION:
        reset = f"the previous evaluation's {context.previous_action}"
    elif context.others_changes:
        reset = f"{context.others_changes} flag change(s) by {context.others} since the previous evaluation"
    elif context.previous_flags != (context.enabled, context.percentage):
        reset = "the flags changed since the previous evaluation"
    elif context.previous_paused and context.pause is None:
        reset = "resumed since the previous evaluation"
    elif context.evaluated_at - context.previous_at > interval * STALE_AFTER_INTERVALS:
        reset = f"the previous evaluation is {format_duration(context.evaluated_at - context.previous_at)} old"
    failures = 0 if reset else context.previous_failures
    successes = 0 if reset else context.previous_successes
    if verdict == DEGRADED:
        return failures + 1, 0, reset
    if verdict == HEALTHY:
        return 0, successes + 1, reset
    if verdict == OFF:
        return 0, 0, reset
    return failures, successes, reset


def _why_nothing(
    context: _Context, verdict: str, failures: int, successes: int, consecutive: int, reset: str | None
) -> str:
    restarted = f" (count restarted: {reset})" if reset else ""
    if verdict == OFF:
        return "the master switch is off: nothing rolled out to judge"
    if verdict == INCONCLUSIVE:
        return f"not enough data to judge; counts kept (bad {failures}, good {successes}){restarted}"
    if verdict == DEGRADED:
        return f"v2 worse than v1, {failures} of {consecutive} consecutive evaluations needed to act{restarted}"
    if context.percentage == 0:
        return "healthy at 0 %: the watcher never starts the plan; start it with `voice-migration rollout advance`"
    return f"healthy, {successes} of {consecutive} consecutive evaluations needed to advance{restarted}"


def _rollback_target(plan: RolloutPlan, context: _Context) -> str:
    step = plan.previous_step(context.percentage)
    return f"{step.percentage} %" if step else "master switch off (at or below the plan's first step)"


def _unchanged(state: FlagState, context: _Context, conn: Conn, actor: str) -> str | None:
    """None when the flags and the audit are as the evaluation saw them; else why not to act on it."""
    row = conn.execute(watch_sql("latest_audit"), {"by": actor}).fetchone()
    newest = None if row is None or row[0] is None else as_int(row[0])
    if (state.enabled, state.percentage) != (context.enabled, context.percentage) or newest != context.audit_max:
        return "the flags changed while evaluating: not acting on what is no longer true; the next evaluation decides"
    return None


def _own_audit_id(conn: Conn, actor: str) -> int | None:
    row = conn.execute(watch_sql("latest_audit"), {"by": actor}).fetchone()
    return None if row is None or row[1] is None else as_int(row[1])


def _roll_back(conn: Conn, record: _Record, plan: RolloutPlan, hold: GateCheck, send: Notifier) -> Evaluation:
    context, health = record.context, record.health
    step = plan.previous_step(context.percentage)
    action = "rollback_partial" if step else "rollback_total"
    failed = "; ".join(f"{c.name}: {c.evidence}" for c in health.checks if not c.passed)
    reason = (
        f"automatic rollback by {record.watcher}: v2 worse than v1 in {record.failures} consecutive evaluations "
        f"over the last {format_duration(health.window)} (threshold {record.consecutive}): {failed}; "
        f"{health.v1.describe()}; {health.v2.describe()}"
    )
    with flag_change(conn, action=action, changed_by=record.watcher, reason=reason) as change:
        stale = _unchanged(change.state, context, conn, record.watcher)
        if stale:
            return record.store(conn, hold, NO_ACTION, stale)
        result = change.set_flags(
            enabled=step is not None and change.state.enabled,
            percentage=step.percentage if step else change.state.percentage,
        )
        audit_id = _own_audit_id(conn, record.watcher)
        after = result.describe(new=True)
        note = f"rolled back to {after}; paused until `voice-migration rollout resume --by WHO`"
        evaluation = record.store(conn, hold, ROLLBACK, note, audit_id=audit_id, change=result, paused=True)
        row = conn.execute(
            watch_sql("pause"),
            {
                "by": record.watcher,
                "reason": f"automatic rollback to {after}",
                "evaluation_id": evaluation.id,
                "audit_id": audit_id,
            },
        ).fetchone()
        assert row is not None
        pause = Pause(as_int(row[0]), as_datetime(row[1]), record.watcher, f"automatic rollback to {after}")
    evaluation = replace(evaluation, pause=pause)
    send(
        "rollout_watch_rollback",
        f"voice agent v2 ROLLED BACK automatically from {result.old_percentage} % to "
        f"{f'{result.new_percentage} %' if result.new_enabled else 'OFF for every tenant (master switch off)'}: "
        "v2 was worse "
        f"than v1 in {record.failures} consecutive evaluations. The watcher is now PAUSED (no further advance "
        "or rollback) until someone runs `voice-migration rollout resume --by WHO`",
        {
            **_evidence(evaluation),
            "before": result.describe(new=False),
            "after": after,
            "audit": f"voice_agent_v2_flag_audit id {audit_id}, action {action}, by {record.watcher}",
            "next steps": "`voice-migration rollout history` (what the watcher saw), `voice-migration rollout "
            "status`; roll back further by hand if needed (`voice-migration rollback --level total --reason ...`); "
            "when v2 is fixed: `voice-migration rollout resume --by WHO`",
        },
    )
    return evaluation


def _advance(
    conn: Conn, record: _Record, plan: RolloutPlan, policy: HealthPolicy, hold: GateCheck, send: Notifier
) -> Evaluation:
    context = record.context
    pending: list[tuple[str, str, Mapping[str, object]]] = []
    reason = f"automatic advance by {record.watcher} after {record.successes} consecutive healthy evaluations"
    with flag_change(conn, action="advance", changed_by=record.watcher, reason=reason) as guard:
        stale = _unchanged(guard.state, context, conn, record.watcher)
        if stale:
            return record.store(conn, hold, NO_ACTION, stale)
        result = changes.advance(
            conn,
            record.watcher,
            plan=plan,
            policy=policy,
            reason=reason,
            now=context.evaluated_at,
            notify=lambda kind, message, details: pending.append((kind, message, details)),
        )
        if result.change is None:
            return record.store(conn, hold, NO_ACTION, f"advance refused under the lock: {result.refusal}")
        note = f"advanced to {result.change.describe(new=True)} (exactly `rollout advance`, by {record.watcher})"
        evaluation = record.store(
            conn, hold, ADVANCE, note, audit_id=_own_audit_id(conn, record.watcher), change=result.change
        )
    for kind, message, details in pending:  # after the commit, as every flag change is notified
        send(kind, message, {**details, **_evidence(evaluation)})
    return evaluation


def _evidence(evaluation: Evaluation) -> dict[str, object]:
    health = evaluation.health
    return {
        "percentage": f"{evaluation.percentage} %",
        "window": f"last {format_duration(health.window)} before {evaluation.evaluated_at:%Y-%m-%d %H:%M:%S %Z}",
        "v1": health.v1.describe(),
        "v2": health.v2.describe(),
        "checks": "; ".join(f"{c.name} {'ok' if c.passed else 'FAILED'}: {c.evidence}" for c in evaluation.checks),
        "evaluation": f"#{evaluation.id} ({evaluation.failures} bad, {evaluation.successes} good in a row; "
        f"threshold {evaluation.consecutive})",
        "watcher": evaluation.watcher,
    }


def _default_notify(kind: str, message: str, details: Mapping[str, object]) -> None:
    from voice_migration.infra.notify import send_notification  # lazily, and patchable like announce()'s

    send_notification(kind, message, details)


@contextmanager
def _watch_tables_required() -> Iterator[None]:
    """Turn "no such table" into one clear line: revision 0011_rollout_watch is not applied."""
    try:
        yield
    except psycopg.errors.UndefinedTable as exc:
        raise OperationRefused(
            "the rollout watch tables do not exist: the database is not at revision 0011_rollout_watch or "
            "later; run `alembic upgrade head` (or `voice-migration migrate`) first"
        ) from exc


def _cohort_dict(cohort: CohortStats) -> dict[str, object]:
    return {
        "calls": cohort.calls,
        "failed_calls": cohort.failed_calls,
        "error_rate": cohort.error_rate,
        "p95_latency_ms": cohort.p95_latency_ms,
    }


def _check_dict(check: GateCheck) -> dict[str, object]:
    return {"name": check.name, "passed": check.passed, "evidence": check.evidence}


def _float(value: object) -> float | None:
    return value if isinstance(value, float) else None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _close(conn: Conn | None) -> None:
    if conn is not None and not conn.closed:
        try:
            conn.close()
        except psycopg.Error:
            log.debug("closing a broken watcher connection failed", exc_info=True)
