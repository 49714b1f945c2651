"""The cost of the quarantine hold in the SQL rollout rule (issue #15): v2 of voice_agent_v2_enabled vs v1.

``SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id)) FROM tenants`` on 100,000 tenants (1,000
overrides, 1,000 held tenants, i.e. tenants with a quarantined config), and side by side — interleaved,
same data, same server — the released 0.1 definition (``sql/objects/voice_agent_v2_enabled/v1.sql``,
installed under the name ``bench_enabled_v1``), at 37 % and at 100 %; then again with no held tenant (the
held configs fixed). Target: v2 within 1.2× of v1 in every case. Each figure is the median of
``--runs`` (default 3) interleaved runs; the ratio is the median of the per-run ratios.

Usage::

    python bench/held_bench.py                      # a throwaway PostgreSQL (voice_migration.infra.embedded)
    python bench/held_bench.py --database-url URL   # a server of yours: a scratch database is created on it
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from voice_migration import flags
from voice_migration.infra.embedded import EphemeralPostgres
from voice_migration.infra.resources import read_sql
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions

TENANTS = 100_000
OVERRIDES = 1_000
HELD = 1_000
PERCENTAGES = (37, 100)
SQL_RUNS = 3
COUNT_QUERY = "SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id)) FROM tenants"
BASELINE_QUERY = "SELECT count(*) FILTER (WHERE bench_enabled_v1(id)) FROM tenants"


def prepare(url: str) -> None:
    """Bring the scratch database to head and fill it; install the 0.1 rule as ``bench_enabled_v1``."""
    revisions.upgrade(load_settings(url, env={}), "head")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, created_at) SELECT 'tenant-' || g, 'Tenant ' || g, now() "
            "FROM generate_series(1, %s) AS g",
            (TENANTS,),
        )
        conn.execute(
            "INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) "
            "SELECT 'tenant-' || g, g %% 2 = 0 FROM generate_series(1, %s * 100, 100) AS g",
            (OVERRIDES,),
        )
        # No voice_id: the dual-write trigger quarantines the config, so its tenant is held.
        conn.execute(
            "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
            "SELECT 'held-' || g, 'tenant-' || (g * 97), 'Agent', 'Hola', NULL, 'es', true "
            "FROM generate_series(1, %s) AS g",
            (HELD,),
        )
        v1 = read_sql("objects/voice_agent_v2_enabled/v1.sql")
        v1 = v1.replace("FUNCTION voice_agent_v2_enabled(", "FUNCTION bench_enabled_v1(")
        conn.execute(v1.encode())
        conn.execute("VACUUM ANALYZE tenants, voice_agent_v2_tenant_overrides, voice_agent_v2_flags")
        conn.execute("VACUUM ANALYZE voice_agent_v2_held_tenants")


def time_counts(url: str, runs: int = SQL_RUNS) -> tuple[int, int, list[float], list[float]]:
    """Warm up, then ``runs`` interleaved runs of each count; returns both counts and both timings."""
    with psycopg.connect(url, autocommit=True) as conn:
        count = conn.execute(COUNT_QUERY).fetchone()
        baseline_count = conn.execute(BASELINE_QUERY).fetchone()
        timings: list[float] = []
        baseline: list[float] = []
        for _ in range(runs):
            for query, into in ((COUNT_QUERY, timings), (BASELINE_QUERY, baseline)):
                started = time.perf_counter()
                conn.execute(query).fetchone()
                into.append(time.perf_counter() - started)
    assert count is not None and baseline_count is not None
    return int(str(count[0])), int(str(baseline_count[0])), timings, baseline


def measure(url: str, runs: int, held: int) -> float:
    """Both rules at each percentage; prints one line each and returns the worst ratio."""
    worst = 0.0
    for percentage in PERCENTAGES:
        with psycopg.connect(url, autocommit=True) as conn:
            flags.update_rollout_percentage(conn, percentage, "bench")
        in_v2, v1_in_v2, timings, baseline = time_counts(url, runs)
        ratio = statistics.median(t / b for t, b in zip(timings, baseline, strict=True))
        worst = max(worst, ratio)
        print(
            f"  held {held:5,}, {percentage:3d} %: v2 (held-aware) {statistics.median(timings):.3f} s, "
            f"v1 (0.1) {statistics.median(baseline):.3f} s, median of {runs}; "
            f"ratio v2/v1 {ratio:.2f}×; in v2: {in_v2:,} (v1 rule: {v1_in_v2:,})",
            flush=True,
        )
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgresql:// URL of a server where a scratch database may be created")
    parser.add_argument("--runs", type=int, default=SQL_RUNS, help="interleaved runs per figure (median)")
    args = parser.parse_args()
    worst = 0.0
    with ExitStack() as stack:
        base = args.database_url
        if base is None:
            server = stack.enter_context(EphemeralPostgres())
            base = server.url
        scratch = f"vm_held_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        url = urlunsplit(urlsplit(base)._replace(path=f"/{scratch}"))
        try:
            prepare(url)
            print(f"tenants: {TENANTS:,}, overrides: {OVERRIDES:,}")
            worst = measure(url, args.runs, HELD)
            with psycopg.connect(url, autocommit=True) as conn:
                # The v1 rows fixed: the dual-write trigger migrates them and the hold lifts.
                conn.execute("UPDATE voice_agent_configs SET voice_id = 'voice-1' WHERE voice_id IS NULL")
                conn.execute("VACUUM ANALYZE voice_agent_v2_held_tenants, voice_agent_v2_flags")
            worst = max(worst, measure(url, args.runs, 0))
        finally:
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
    print(f"worst ratio: {worst:.2f}× (target ≤ 1.20×)")
    return 0 if worst <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
