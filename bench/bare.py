"""Contender 2, the bare-SQL limit: the least SQL that gives the same result as ``migrate``.

On a fresh copy of the v1 data: one ``CREATE TABLE AS`` per backed-up table, the v2 schema
(``alembic upgrade head`` without its backfill, the very revisions ``migrate`` applies), one ``UPDATE``
for the configs, one for the calls and one statement for the metrics, each over the whole table with
the project's own derive functions (``bench/sql/bare_*.sql``). No batches, no progress rows, no
quarantine, no pre-flight and no verification: what is left is the cost of the transformation itself.
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


def run(url: str) -> BareRun:
    """Measure the bare-SQL limit on the database at ``url`` (a fresh copy of the v1 data)."""
    steps: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        before = snapshot(conn)
        total = Stopwatch()
        for name, script in STEPS:
            clock = Stopwatch()
            if script is None:
                upgrade_schema(url)
            else:
                with conn.transaction():  # one transaction per step, like one statement each
                    conn.execute(bench_sql(script).encode())
            steps[name] = clock.seconds
        seconds = total.seconds
        after = snapshot(conn)
        return BareRun(
            seconds=seconds,
            steps=steps,
            wal_bytes=wal_bytes(conn, before, after),
            size_growth_bytes=after.size_bytes - before.size_bytes,
            checksum=result_checksum(conn),
        )
