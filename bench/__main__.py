"""``python -m bench``: run the benchmarks of issue 8 and write their results.

    python -m bench migration                         # 100,000 and 1,000,000 calls, 3 runs each
    python -m bench migration --calls 10000000 --runs 1 --contenders project --name migration_10m
    python -m bench load                              # write latency of a v1 application during migrate
    python -m bench loadgen --database-url URL ...    # the load generator alone (used by `load`)
    python -m bench profile --calls 100000            # pg_stat_statements over one migrate (own server only)
    python -m bench render bench/results/migration.json   # rewrite the markdown table from the JSON
    python -m bench index-window --calls 1000000      # v1 write cost while the calls index is missing

Without ``--database-url`` each benchmark starts its own throwaway PostgreSQL server
(voice_migration.infra.embedded: fsync=off, synchronous_commit=off, full_page_writes=off) and removes it after.
Results: ``bench/results/<name>.json`` and ``<name>.md`` (``--out`` to write elsewhere).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import index_window, load_bench, loadgen, migration_bench, profile, report
from bench.common import RESULTS_DIR, bench_server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    sub = parser.add_subparsers(dest="command", required=True)

    migration = sub.add_parser("migration", help="throughput: project vs limit vs batching overhead vs row by row")
    migration.add_argument("--calls", type=int, nargs="+", default=[100_000, 1_000_000], help="sizes, in calls")
    migration.add_argument("--runs", type=int, default=3, help="runs per size (medians are reported)")
    migration.add_argument("--sample", type=int, default=2_000, help="calls done by the row-by-row baseline")
    every = migration_bench.CONTENDERS + migration_bench.EXTRA_CONTENDERS
    migration.add_argument("--contenders", nargs="+", choices=every, default=list(migration_bench.CONTENDERS))
    migration.add_argument("--name", default="migration", help="result file name (without extension)")
    migration.add_argument("--migrate-args", default="", help="extra migrate options, e.g. '--skip-backup'")

    load = sub.add_parser("load", help="write latency of a v1 application while migrate runs")
    load.add_argument("--calls", type=int, default=load_bench.DEFAULT_CALLS, help="size of the data, in calls")
    load.add_argument("--rate", type=float, default=loadgen.DEFAULT_RATE, help="writes per second")
    load.add_argument("--before", type=float, default=load_bench.DEFAULT_BEFORE, help="seconds measured before")
    load.add_argument("--max-seconds", type=float, default=loadgen.MAX_SECONDS, help="hard limit of the load")
    load.add_argument("--name", default="load", help="result file name (without extension)")

    gen = sub.add_parser("loadgen", help="the load generator alone: plays the v1 application")
    gen.add_argument("--rate", type=float, default=loadgen.DEFAULT_RATE)
    gen.add_argument("--seconds", type=float, default=loadgen.MAX_SECONDS)
    gen.add_argument("--samples", type=Path, required=True, help="where to write the per-write samples (JSON)")

    window = sub.add_parser("index-window", help="v1 write cost between 0003 (triggers) and 0004 (calls index)")
    window.add_argument("--calls", type=int, default=1_000_000, help="size of the data, in calls")
    window.add_argument("--name", default="index_window", help="result file name (without extension)")
    window.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory for the result file")

    render = sub.add_parser("render", help="rewrite the markdown table of a result file from its JSON")
    render.add_argument("json_path", type=Path)

    prof = sub.add_parser("profile", help="pg_stat_statements over one migrate, on a throwaway server")
    prof.add_argument("--calls", type=int, default=100_000, help="size of the data, in calls")
    prof.add_argument("--name", default="profile", help="result file name (without extension)")
    prof.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory for the result file")

    for sub_parser in (migration, load, gen):
        sub_parser.add_argument("--database-url", help="a server where scratch databases may be created")
    for sub_parser in (migration, load):
        sub_parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory for the result files")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one benchmark; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "loadgen":
        if args.database_url is None:
            raise SystemExit("loadgen needs --database-url (the database the v1 application writes to)")
        loadgen.main(args.database_url, rate=args.rate, seconds=args.seconds, samples_path=args.samples)
        return 0
    if args.command == "render":
        print(report.render(args.json_path).read_text(encoding="utf-8"))
        return 0
    if args.command == "index-window":
        with bench_server(None) as base_url:
            markdown = index_window.run(base_url, args.calls)
        print(markdown)
        print(f"results: {profile.write(args.out, args.name, markdown)}")
        return 0
    if args.command == "profile":
        # It restarts the server to preload pg_stat_statements: only ever on a throwaway one.
        with bench_server(None) as base_url:
            markdown = profile.run(base_url, args.calls)
        print(markdown)
        print(f"results: {profile.write(args.out, args.name, markdown)}")
        return 0
    with bench_server(args.database_url) as base_url:
        if args.command == "migration":
            options = migration_bench.MigrationBenchOptions(
                sizes=tuple(args.calls),
                runs=args.runs,
                sample=args.sample,
                contenders=tuple(args.contenders),
                migrate_args=tuple(args.migrate_args.split()),
            )
            document = migration_bench.run(base_url, options)
            markdown = report.migration_markdown(document)
        else:
            load_options = load_bench.LoadBenchOptions(
                calls=args.calls, rate=args.rate, before=args.before, max_seconds=args.max_seconds
            )
            document = load_bench.run(base_url, load_options)
            markdown = report.load_markdown(document)
    json_path, md_path = report.write(args.out, args.name, document, markdown)
    print(markdown)
    print(f"results: {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
