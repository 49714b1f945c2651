"""How long full validation takes on migrated data (issue 6: target < 10 s for 1,000,000 calls).

    python -m bench.validation_bench                       # 1,000,000 calls, 3 runs, own throwaway server
    python -m bench.validation_bench --calls 100000 --runs 5 --database-url postgresql://...

The data is the seed's clean data (100 calls per config) taken to head by the real backfill and
backed up, so every check has its full work to do and passes. Each run is one
``voice_migration.migration.validation.run_validation`` (all checks, all tenants, one snapshot), timed from
Python; the per-check times are the medians over the runs. Results go to
``bench/results/validation.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import RESULTS_DIR, bench_server, database_url, machine, server_settings
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions, validation
from voice_migration.migration.backup import create_backup


def prepare(base_url: str, calls: int) -> tuple[str, float]:
    """A scratch database with ``calls`` migrated calls and a backup; returns its URL and setup seconds."""
    name = f"validation_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = database_url(base_url, name)
    started = time.perf_counter()
    settings = load_settings(url, env={})
    revisions.upgrade(settings, revisions.BASELINE_REVISION)
    with psycopg.connect(url) as conn:
        seed_v1(conn, SeedSpec(tenants=max(1, calls // 10_000), configs=max(1, calls // 100), calls=calls))
    revisions.upgrade(settings, "head")
    with psycopg.connect(url, autocommit=True) as conn:
        create_backup(conn)
        conn.execute("VACUUM ANALYZE")
    return url, time.perf_counter() - started


def drop(base_url: str, url: str) -> None:
    """Drop the scratch database."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def measure(url: str, runs: int) -> dict[str, object]:
    """Run full validation ``runs`` times (after one warm-up run); medians of total and per-check seconds."""
    totals: list[float] = []
    per_check: dict[str, list[float]] = {}
    with psycopg.connect(url) as conn:
        validation.run_validation(conn)  # warm-up: caches, plans
        for _ in range(runs):
            started = time.perf_counter()
            report = validation.run_validation(conn)
            totals.append(time.perf_counter() - started)
            if not report.ok or report.failed:
                raise SystemExit(f"validation did not pass on clean data: {validation.render_text(report)}")
            for result in report.results:
                per_check.setdefault(result.check.name, []).append(result.seconds)
    return {
        "total_seconds_median": round(statistics.median(totals), 2),
        "total_seconds_runs": [round(t, 2) for t in totals],
        "per_check_seconds_median": {
            name: round(statistics.median(times), 2)
            for name, times in sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1]))
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the result files."""
    parser = argparse.ArgumentParser(prog="python -m bench.validation_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="a server where scratch databases may be created")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--name", default="validation")
    args = parser.parse_args(argv)
    with bench_server(args.database_url) as base_url:
        url, setup = prepare(base_url, args.calls)
        try:
            numbers = measure(url, args.runs)
        finally:
            drop(base_url, url)
        result = {
            "benchmark": "full validation (all checks, all tenants)",
            "calls": args.calls,
            "configs": max(1, args.calls // 100),
            "runs": args.runs,
            "setup_seconds": round(setup, 1),
            **numbers,
            "target_seconds": 10,
            "machine": machine(),
            "server": server_settings(base_url),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Full validation on {args.calls:,} calls",
        "",
        f"Median of {args.runs} runs: **{result['total_seconds_median']} s** (target < 10 s); "
        f"runs {result['total_seconds_runs']}; load average at start {result['machine']['loadavg_at_start']}.",  # type: ignore[index]
        "",
        "| check | median s |",
        "|---|---|",
        *(f"| {name} | {secs} |" for name, secs in numbers["per_check_seconds_median"].items()),  # type: ignore[attr-defined]
    ]
    (args.out / f"{args.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
