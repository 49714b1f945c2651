"""Where ``migrate`` spends its time: ``pg_stat_statements`` over one run (``python -m bench profile``).

A throwaway server gets ``shared_preload_libraries = pg_stat_statements`` (``ALTER SYSTEM``, then
``pg_ctl restart``, which keeps the server's command-line settings) and ``pg_stat_statements.track =
all``, so the statements inside the plpgsql backfill step and the validation functions are counted
too. One ``migrate --yes`` runs on seeded v1 data; the statements are then listed by total time.
Top-level and nested statements are both listed: a nested statement's time is also inside its caller's.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import project
from bench.common import bench_sql, database_url, make_v1_template
from voice_migration.infra.embedded import SERVER_USER, find_server_bindir

TOP = 25


def enable_pg_stat_statements(base_url: str) -> None:
    """Preload pg_stat_statements on the server at ``base_url`` and restart it (a throwaway server only)."""
    bindir = find_server_bindir()
    if bindir is None or not (bindir.parent / "lib" / "pg_stat_statements.so").exists():
        raise RuntimeError("pg_stat_statements is not installed next to the PostgreSQL binaries")
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        data = str(row[0])
    # -l: the restarted server must not inherit our pipes (pg_ctl would never be done writing to them).
    log = str(Path(data).parent / "server.log")
    argv = [str(bindir / "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60", "restart", "-m", "fast"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv = ["runuser", "-u", SERVER_USER, "--", *argv]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    with psycopg.connect(base_url, autocommit=True) as conn:
        # Known only once the library is loaded; a reload is enough for it.
        conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
        conn.execute("SELECT pg_reload_conf()")


def run(base_url: str, calls: int) -> str:
    """Seed ``calls`` calls, run ``migrate --yes`` once, return the top statements as markdown."""
    enable_pg_stat_statements(base_url)
    template, _ = make_v1_template(base_url, calls)
    url = database_url(base_url, template)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
    code, seconds, rss, _, stderr = project.run_migrate(url)
    if code != 0:
        raise RuntimeError(f"migrate exited {code}: {stderr[-2000:]}")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(bench_sql("top_statements"), {"top": TOP}).fetchall()
    lines = [
        f"pg_stat_statements over one `migrate --yes` on {calls:,} calls: {seconds:.1f} s wall, "
        f"peak RSS {rss:.0f} MB; measured {datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
        "| total ms | calls | mean ms | rows | top level | statement |",
        "|---:|---:|---:|---:|---|---|",
    ]
    for total, n, mean, nrows, toplevel, query in rows:
        text = " ".join(str(query).split())[:160].replace("|", "\\|")
        lines.append(f"| {total:,.0f} | {n:,} | {mean:,.2f} | {nrows:,} | {'yes' if toplevel else 'no'} | `{text}` |")
    return "\n".join(lines)


def write(directory: Path, name: str, markdown: str) -> Path:
    """Write the profile to ``<directory>/<name>.md``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.md"
    path.write_text(markdown + "\n", encoding="utf-8")
    return path
