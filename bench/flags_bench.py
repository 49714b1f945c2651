"""Measure the two rollout numbers side by side, in one run (issue 5).

1. Cached checks per second in one Python process: ``should_use_voice_agent_v2_cached`` over 100,000
   tenant ids, ten passes (the first pass fills the per-tenant bucket memo; the rate of the warm
   passes is the one that matters for a long-running application).
2. ``SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id)) FROM tenants`` on 100,000 tenants, and
   side by side (interleaved, same data) the same rule without the override filter: the function as it
   was before the filter, reading the flags row and then the overrides table on every call.

Usage::

    python bench/flags_bench.py                      # a throwaway PostgreSQL (voice_migration.infra.embedded)
    python bench/flags_bench.py --database-url URL   # a server of yours: a scratch database is created on it

The database gets revision 0002_v2_flags, 100,000 tenants, 1,000 overrides and a 37 % rollout.
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
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions

TENANTS = 100_000
OVERRIDES = 1_000
PERCENTAGE = 37
PASSES = 10
SQL_RUNS = 5
COUNT_QUERY = "SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id)) FROM tenants"
BASELINE_QUERY = "SELECT count(*) FILTER (WHERE bench_enabled_two_lookups(id)) FROM tenants"
# The rule as voice_agent_v2_enabled computed it before the override filter (same SET clause, same
# bucket): two queries per call. Created in the scratch database only.
BASELINE_FUNCTION = """
CREATE FUNCTION bench_enabled_two_lookups(tenant_id text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    master_on  boolean;
    percentage integer;
    override   boolean;
BEGIN
    SELECT f.enabled, f.rollout_percentage INTO master_on, percentage FROM public.voice_agent_v2_flags AS f;
    IF NOT coalesce(master_on, false) OR tenant_id IS NULL THEN
        RETURN false;
    END IF;
    SELECT o.enabled INTO override FROM public.voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = $1;
    IF override IS NOT NULL THEN
        RETURN override;
    END IF;
    RETURN (('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100) < percentage;
END
$$
"""


def prepare(url: str) -> list[str]:
    """Bring the scratch database to 0002_v2_flags and fill it; return the tenant ids."""
    revisions.upgrade(load_settings(url, env={}), "0002_v2_flags")
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
        flags.update_rollout_percentage(conn, PERCENTAGE, "bench")
        conn.execute(BASELINE_FUNCTION)
        conn.execute("VACUUM ANALYZE tenants, voice_agent_v2_tenant_overrides, voice_agent_v2_flags")
        return [str(row[0]) for row in conn.execute("SELECT id FROM tenants ORDER BY id")]


def time_sql_counts(url: str) -> tuple[int, list[float], list[float]]:
    """Run both counts once to warm up, then SQL_RUNS times each, interleaved.

    Returns the count and the timings of ``voice_agent_v2_enabled`` and of the two-lookup baseline.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(COUNT_QUERY).fetchone()
        baseline_row = conn.execute(BASELINE_QUERY).fetchone()
        if row != baseline_row:
            raise SystemExit(f"the baseline disagrees with voice_agent_v2_enabled: {baseline_row} vs {row}")
        timings: list[float] = []
        baseline: list[float] = []
        for _ in range(SQL_RUNS):
            for query, into in ((COUNT_QUERY, timings), (BASELINE_QUERY, baseline)):
                started = time.perf_counter()
                conn.execute(query).fetchone()
                into.append(time.perf_counter() - started)
    return int(row[0]) if row else 0, timings, baseline


def time_cached_checks(url: str, tenants: list[str]) -> tuple[int, float, float]:
    """Return (tenants in v2 per the cache, cold-pass rate, warm-passes rate) in checks per second."""
    check = flags.should_use_voice_agent_v2_cached
    flags.configure_cached_check(url, ttl=30)
    try:
        started = time.perf_counter()
        in_v2 = sum(1 for tenant in tenants if check(tenant))
        cold = len(tenants) / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(PASSES - 1):
            for tenant in tenants:
                check(tenant)
        warm = len(tenants) * (PASSES - 1) / (time.perf_counter() - started)
    finally:
        flags.close_cached_check()
    return in_v2, cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgresql:// URL of a server where a scratch database may be created")
    args = parser.parse_args()
    with ExitStack() as stack:
        base = args.database_url
        if base is None:
            server = stack.enter_context(EphemeralPostgres())
            base = server.url
        scratch = f"vm_flags_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        url = urlunsplit(urlsplit(base)._replace(path=f"/{scratch}"))
        try:
            tenants = prepare(url)
            sql_count, timings, baseline = time_sql_counts(url)
            cached_count, cold, warm = time_cached_checks(url, tenants)
        finally:
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
    print(f"tenants: {TENANTS:,}, overrides: {OVERRIDES:,}, rollout: {PERCENTAGE} %, in v2: {sql_count:,}")
    print(f"  cached check (one process):  {warm:,.0f} checks/s warm   ({cold:,.0f}/s on the first, cold pass)")
    print(
        f"  SQL count over all tenants:  {min(timings):.3f} s best, {statistics.median(timings):.3f} s median "
        f"of {SQL_RUNS}   ({min(timings) / TENANTS * 1e6:.1f} µs per tenant)"
    )
    ratio = statistics.median(b / t for b, t in zip(baseline, timings, strict=True))
    print(
        f"  same count, no override filter: {statistics.median(baseline):.3f} s median "
        f"(two lookups per call; {ratio:.2f}× the time, median of per-run ratios)"
    )
    if cached_count != sql_count:
        print(f"MISMATCH: the cache puts {cached_count:,} tenants in v2, SQL {sql_count:,}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
