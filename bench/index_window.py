"""The cost of a v1 write between revisions 0003 (dual-write triggers) and 0004 (the calls index).

``python -m bench index-window``: on seeded v1 data, upgrade to ``0003_v2_expand`` (backfill skipped),
time a few v1 config updates and call inserts, upgrade to head (which builds
``voice_agent_calls_tenant_config_idx``), time the same writes again. It shows what a v1 application
pays while ``migrate``'s ``revisions`` step builds the index (docs/benchmarks.md).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg

from alembic import command
from bench.common import bench_sql, database_url, make_v1_template, median
from voice_migration.migration import revisions

WRITES = 5


def _time_writes(conn: psycopg.Connection[tuple[object, ...]], tag: str) -> tuple[list[float], list[float]]:
    updates, inserts = [], []
    for i in range(WRITES):
        started = time.perf_counter()
        conn.execute(bench_sql("load_update_config"), {"id": f"cfg_{100 + i * 7:08d}", "k": i})
        updates.append((time.perf_counter() - started) * 1000)
        params = {"id": f"call_window_{tag}_{i}", "tenant_id": "tenant_000001", "config_id": "cfg_00000001", "k": i}
        started = time.perf_counter()
        conn.execute(bench_sql("load_insert_call"), params)
        inserts.append((time.perf_counter() - started) * 1000)
    return updates, inserts


def run(base_url: str, calls: int) -> str:
    """Measure the writes at 0003 and at head on ``calls`` calls; return a markdown table."""
    template, _ = make_v1_template(base_url, calls)
    url = database_url(base_url, template)
    config = revisions.alembic_config(url)
    config.attributes["skip_backfill"] = True
    rows = []
    with psycopg.connect(url, autocommit=True) as conn:
        command.upgrade(config, "0003_v2_expand")
        rows.append(("at 0003_v2_expand: triggers, no calls index", *_time_writes(conn, "0003")))
        command.upgrade(config, "head")
        rows.append(("at head: the calls index built", *_time_writes(conn, "head")))
    lines = [
        f"v1 writes on {calls:,} calls, {WRITES} of each, one at a time; measured "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
        "| schema | config update ms (median, max) | call insert ms (median, max) |",
        "|---|---:|---:|",
    ]
    for label, updates, inserts in rows:
        lines.append(
            f"| {label} | {median(updates):,.1f}, {max(updates):,.1f} | {median(inserts):,.1f}, {max(inserts):,.1f} |"
        )
    return "\n".join(lines)
