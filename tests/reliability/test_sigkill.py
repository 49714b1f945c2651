"""SIGKILL of ``migrate`` at 20 seeded random moments: each re-run completes, identical to an uninterrupted run.

A moment is "after the N-th line of the run's JSON log" (every step start/end and every committed
batch writes one), plus a delay: 0 (a batch boundary: the line is written right after the commit)
or 10-80 ms (inside the next batch: at that moment the test-only slow-batch trigger is switched on,
which keeps each batch's transaction open for 100 ms). Each kill hits a fresh copy of the messy
corpus; the re-run is the same command, run to the end; its end state is compared with the
reference (``helpers.end_state``). The killed ``migrate`` is forked from the test process
(``helpers.fork_cli``): the CLI's own ``main`` in a separate process, killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from dataclasses import dataclass

import psycopg
import pytest

from tests.helpers import (
    BATCH_SIZE,
    Counts,
    counts,
    fork_cli,
    invoke,
    set_slow_batches,
    url_state,
    wait_for_no_sessions,
)

pytestmark = pytest.mark.reliability

SEED = 20240115
KILLS = 20
# Lines an uninterrupted run of the corpus writes with --batch-size 10: the plan, 7 steps started and
# done, 7 + 30 + 7 batch lines. Kills are drawn from the lines before the last step.
LAST_LINE = 55
# The slow-batch trigger sits on configs and calls, so only a kill inside those steps' batches waits
# its delay; later in the run (metrics, verify) batches take milliseconds and a delay could outlast the
# run, so such a kill lands at once, right after its line.
SLOWED_STEPS = ("transform configs", "infer outcomes")


@dataclass(frozen=True)
class Moment:
    """When to kill: after ``line`` log lines, plus ``delay`` seconds (0 = at a batch boundary)."""

    line: int
    delay: float

    @property
    def label(self) -> str:
        return f"line{self.line}" + (f"+{self.delay * 1000:.0f}ms" if self.delay else "-boundary")


def _moments() -> list[Moment]:
    rng = random.Random(SEED)
    return [
        Moment(rng.randint(1, LAST_LINE), 0.0 if number % 2 == 0 else round(rng.uniform(0.01, 0.08), 3))
        for number in range(KILLS)
    ]


MOMENTS = _moments()


def kill_migrate(url: str, moment: Moment) -> tuple[str, str]:
    """Run ``migrate``, SIGKILL it at ``moment``; return (the last log line read, the state of its sessions then)."""
    child = fork_cli(
        ["migrate", "--yes", "--batch-size", str(BATCH_SIZE), "--log-format", "json", "--verbose"], url=url
    )
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        last = ""
        for _ in range(moment.line):
            last = child.stderr.readline()
            assert last, "migrate ended before the chosen moment"
        if moment.delay and str(json.loads(last).get("message", "")).startswith(SLOWED_STEPS):
            set_slow_batches(url, True)
            time.sleep(moment.delay)
        os.kill(child.pid, signal.SIGKILL)
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(string_agg(DISTINCT state, ','), 'none') FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE 'voice-migration%%' "
                "AND state IN ('active', 'idle in transaction')"
            ).fetchone()
        assert child.wait() == -signal.SIGKILL
    finally:
        watchdog.cancel()
        set_slow_batches(url, False)
    return last.strip(), str(row[0] if row else "none")


def test_the_kill_moments_cover_boundaries_and_mid_batch_across_the_whole_run() -> None:
    lines = {m.line for m in MOMENTS}
    assert len(MOMENTS) == KILLS
    assert sum(1 for m in MOMENTS if m.delay == 0) == sum(1 for m in MOMENTS if m.delay > 0) == KILLS // 2
    assert min(lines) < 10 and max(lines) > 45, "moments spread over the steps and all three phases"


@pytest.mark.parametrize("moment", MOMENTS, ids=[m.label for m in MOMENTS])
def test_a_rerun_after_sigkill_ends_identical_to_an_uninterrupted_run(
    seeded_url: str, reference_state: dict[str, str], moment: Moment
) -> None:
    before = counts(seeded_url)

    last_line, sessions = kill_migrate(seeded_url, moment)

    assert counts(seeded_url) == before, f"rows disappeared after a kill at {moment.label} ({last_line})"
    # The killed process's sessions end with it: its advisory lock and row locks go too.
    wait_for_no_sessions(seeded_url)
    rerun = invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=seeded_url)
    assert rerun.exit_code == 0, f"re-run after a kill at {moment.label} (sessions then: {sessions}):\n{rerun.output}"
    assert "Traceback" not in rerun.output
    assert counts(seeded_url) == Counts(before.tenants, before.configs, before.calls)
    assert url_state(seeded_url) == reference_state, f"kill at {moment.label} after: {last_line}"
