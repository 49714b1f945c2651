"""Contender "batching overhead": the project's own derive functions, one statement per table.

On a fresh copy of the v1 data: one ``CREATE TABLE AS`` per backed-up table, the v2 schema
(``alembic upgrade head`` without its backfill, the very revisions ``migrate`` applies), one ``UPDATE``
for the configs, one for the calls and one statement for the metrics, each over the whole table with
the project's own derive functions (``bench/sql/bare_*.sql``). No batches, no progress rows, no
quarantine, no pre-flight and no verification. Because it calls the project's functions it measures
what batching and the safety passes cost, not how far the project is from the limit: that is
:mod:`bench.limit` (hand-written SQL calling no project function).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from bench.common import Stopwatch, bench_sql, result_checksum, snapshot, upgrade_schema, wal_bytes

# The steps in the order they run, with the bench SQL file (None: the Alembic revisions).
STEPS: tuple[tuple[str, str | None], ...] = (
    ("backup", "bare_backup"),
    ("revisions", None),
    ("transform configs", "bare_configs"),
    ("infer outcomes", "bare_calls"),
    ("metrics", "bare_metrics"),
)


@dataclass(frozen=True)
class BareRun:
    """One bare run: total and per-step seconds, WAL and size growth."""

    seconds: float
    steps: dict[str, float]
    wal_bytes: int
    size_growth_bytes: int
    checksum: dict[str, str] = field(default_factory=dict)


def update_floor(url: str) -> float:
    """Seconds of one constant ``UPDATE`` of every call (``bench/sql/update_floor.sql``), schema upgraded untimed."""
    upgrade_schema(url)
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        clock = Stopwatch()
        conn.execute(bench_sql("update_floor").encode())
        return clock.seconds


def run(
    url: str, steps_sql: tuple[tuple[str, str | None], ...] = STEPS, untimed_after: tuple[str, ...] = ()
) -> BareRun:
    """Run ``steps_sql`` (default: the batching-overhead contender) on ``url``, a fresh copy of the v1 data.

    Each step is one transaction; ``untimed_after`` scripts run after the clock stopped (and after the
    WAL snapshot), before the result checksum.
    """
    steps: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        before = snapshot(conn)
        total = Stopwatch()
        for name, script in steps_sql:
            clock = Stopwatch()
            if script is None:
                upgrade_schema(url)
            else:
                with conn.transaction():  # one transaction per step, like one statement each
                    conn.execute(bench_sql(script).encode())
            steps[name] = clock.seconds
        seconds = total.seconds
        after = snapshot(conn)
        for script in untimed_after:
            with conn.transaction():
                conn.execute(bench_sql(script).encode())
        return BareRun(
            seconds=seconds,
            steps=steps,
            wal_bytes=wal_bytes(conn, before, after),
            size_growth_bytes=after.size_bytes - before.size_bytes,
            checksum=result_checksum(conn),
        )
