"""What every benchmark shares: the server, scratch databases cloned from a seeded template, measurements.

One benchmark run uses one PostgreSQL server: a throwaway one from
:class:`voice_migration.infra.embedded.EphemeralPostgres` (``fsync=off``, ``synchronous_commit=off``,
``full_page_writes=off``: every contender runs on exactly these settings), or a server the caller
names with ``--database-url`` (the test suite passes its own). Data is seeded once per size into a
template database; every contender of every run gets its own ``CREATE DATABASE ... TEMPLATE`` copy,
so all of them start from byte-identical data.
"""

from __future__ import annotations

import functools
import math
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from alembic import command
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.embedded import EphemeralPostgres
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions
from voice_migration.migration.backup import checksum

Conn = psycopg.Connection[tuple[object, ...]]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
# Variables that would make a measured CLI process talk to the outside world or change its settings.
_SCRUBBED_ENV_PREFIXES = ("VOICE_MIGRATION_", "SLACK_", "SMTP_", "MIGRATION_ADMIN_", "DATABASE_URL", "PG")


@functools.cache
def bench_sql(name: str) -> str:
    """The text of ``bench/sql/<name>.sql`` (the benchmark's own SQL, not shipped with the package)."""
    return (BENCH_DIR / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def database_url(base_url: str, dbname: str) -> str:
    """``base_url`` pointing at database ``dbname`` instead."""
    return urlunsplit(urlsplit(base_url)._replace(path=f"/{dbname}"))


@contextmanager
def bench_server(base_url: str | None) -> Iterator[str]:
    """The URL of the server to measure on: ``base_url``, or a throwaway server started for this run."""
    if base_url is not None:
        yield base_url
        return
    with EphemeralPostgres() as server:
        yield server.url


def server_settings(base_url: str) -> dict[str, str]:
    """The server settings that matter for the numbers (recorded in every result file)."""
    names = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "work_mem",
             "maintenance_work_mem", "max_wal_size", "wal_level", "jit", "max_parallel_workers_per_gather"]  # fmt: skip
    with psycopg.connect(base_url, autocommit=True) as conn:
        rows = conn.execute(bench_sql("settings"), {"names": names}).fetchall()
        return {str(name): str(value) for name, value in rows}


def machine() -> dict[str, object]:
    """Where the numbers were taken: the comparison only holds on the same machine."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def create_database(base_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (a copy of ``template`` when given) and return its URL."""
    with psycopg.connect(base_url, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        conn.execute(query)
    return database_url(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    """Drop database ``name`` if it exists (its connections are ended first)."""
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(base_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A database that lives for the ``with`` block: a fresh copy of ``template``."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_database(base_url, name, template)
    try:
        yield url
    finally:
        drop_database(base_url, name)


def seed_spec(calls: int) -> SeedSpec:
    """The data of a size: ``calls`` calls, configs = calls/100, tenants = configs/10, the messy v1 cases."""
    configs = max(1, calls // 100)
    return SeedSpec(tenants=max(1, configs // 10), configs=configs, calls=calls, messy=True)


def make_v1_template(base_url: str, calls: int) -> tuple[str, float]:
    """Create a v1 database seeded with :func:`seed_spec` ``(calls)``; return its name and the seed seconds."""
    name = f"bench_v1_{calls}_{uuid.uuid4().hex[:6]}"
    url = create_database(base_url, name)
    revisions.upgrade(load_settings(url, env={}), revisions.BASELINE_REVISION)
    with psycopg.connect(url) as conn:
        result = seed_v1(conn, seed_spec(calls))
    with psycopg.connect(url, autocommit=True) as conn:
        # Hint bits and the visibility map set once here, not by whichever contender reads first.
        conn.execute("VACUUM (FREEZE, ANALYZE) tenants, voice_agent_configs, voice_agent_calls")
    return name, result.seconds


def upgrade_schema(url: str) -> None:
    """``alembic upgrade head`` without the backfill: the v2 schema, data untouched (as ``migrate`` does)."""
    config = revisions.alembic_config(url)
    config.attributes["skip_backfill"] = True
    command.upgrade(config, "head")


def checkpoint(base_url: str) -> None:
    """Flush dirty buffers, so one contender's writes are not paid for by the next one."""
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


@dataclass(frozen=True)
class Snapshot:
    """WAL position and database size at one moment."""

    lsn: str
    size_bytes: int


def snapshot(conn: Conn) -> Snapshot:
    """Where the WAL is and how big ``conn``'s database is now."""
    row = conn.execute(bench_sql("snapshot")).fetchone()
    assert row is not None
    return Snapshot(str(row[0]), int(row[1]))  # type: ignore[call-overload]


def wal_bytes(conn: Conn, before: Snapshot, after: Snapshot) -> int:
    """WAL bytes written between two snapshots."""
    row = conn.execute(bench_sql("wal_diff"), {"after": after.lsn, "before": before.lsn}).fetchone()
    assert row is not None and isinstance(row[0], int)
    return row[0]


# The v2 result per table: configs (v2 columns, without migrated_at), calls (outcome_code, outcome_source) and
# the metrics (without computed_at). Timestamps of the run itself are left out: they differ by design.
RESULT_COLUMNS = {
    "configs": ("voice_agent_configs", ["id", "assistant_type", "voice_config", "personality", "capabilities",
                                        "schema_version", "migrated_from"]),
    "calls": ("voice_agent_calls", ["id", "outcome_code", "outcome_source"]),
    "metrics": ("voice_agent_metrics", ["config_id", "tenant_id", "total_calls", "avg_duration_seconds",
                                        "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "outcome_counts",
                                        "error_rate", "first_call_at", "last_call_at"]),
}  # fmt: skip


def result_checksum(conn: Conn) -> dict[str, str]:
    """Rows and checksum of the v2 result per table, with the project's one table checksum
    (:func:`voice_migration.migration.backup.checksum`); run as a superuser or the owner (RLS on the metrics)."""
    result: dict[str, str] = {}
    for name, (table, columns) in RESULT_COLUMNS.items():
        rows, digest = checksum(conn, sql.Identifier(table), columns)
        result[name] = f"{rows} rows {digest}"
    return result


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (0.0 for none)."""
    return float(statistics.median(values)) if values else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` by the nearest-rank method (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return float(ordered[rank - 1])


def clean_environment(url: str) -> dict[str, str]:
    """The environment for a measured CLI process: ours, minus notification and connection settings, plus URL."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_ENV_PREFIXES)}
    environment["DATABASE_URL"] = url
    return environment


class Stopwatch:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds elapsed."""
        return time.perf_counter() - self.started
