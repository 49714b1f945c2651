"""Synthetic v1 data for demos, tests and benchmarks (``voice-migration seed``).

The rows are made inside PostgreSQL by ``sql/seed/seed_v1.sql`` with
``generate_series``: no Python loop over rows. The same spec always gives the
same data (see the SQL file's header for the messy cases it plants).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.infra.resources import read_sql

V1_TABLES = ("tenants", "voice_agent_configs", "voice_agent_calls")


@dataclass(frozen=True)
class SeedSpec:
    """How much data to make, and whether to plant the messy cases."""

    tenants: int = 10
    configs: int = 100
    calls: int = 10_000
    messy: bool = False
    seed: int = 42

    def validate(self) -> None:
        """Raise :class:`UsageError` for counts the generator cannot honour."""
        if self.tenants < 1 or self.configs < 1 or self.calls < 0:
            raise UsageError("seed needs --tenants >= 1, --configs >= 1 and --calls >= 0")
        if max(self.tenants, self.configs) > 99_999_999 or self.calls > 9_999_999_999:
            raise UsageError("seed counts are too large: at most 99,999,999 tenants/configs")


@dataclass(frozen=True)
class SeedResult:
    """What was inserted, and how long it took."""

    tenants: int
    configs: int
    calls: int
    seconds: float


def seed_v1(conn: psycopg.Connection[tuple[object, ...]], spec: SeedSpec) -> SeedResult:
    """Fill empty v1 tables with generated data in one transaction, and commit it."""
    spec.validate()
    with conn.transaction():
        _require_empty_v1_tables(conn)
        started = time.perf_counter()
        for name, value in (
            ("seed.tenants", spec.tenants),
            ("seed.configs", spec.configs),
            ("seed.calls", spec.calls),
            ("seed.messy", "on" if spec.messy else "off"),
            ("seed.seed", spec.seed),
        ):
            conn.execute("SELECT set_config(%s, %s, true)", (name, str(value)))
        conn.execute(read_sql("seed/seed_v1.sql").encode())
        counts = [_count(conn, table) for table in V1_TABLES]
    conn.execute("ANALYZE tenants, voice_agent_configs, voice_agent_calls")
    conn.commit()
    return SeedResult(counts[0], counts[1], counts[2], time.perf_counter() - started)


def _count(conn: psycopg.Connection[tuple[object, ...]], table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def _require_empty_v1_tables(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for table in V1_TABLES:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone()
        if not exists or not exists[0]:
            raise OperationRefused(
                f"table {table} does not exist: the database is not at the v1 schema; "
                "run `alembic upgrade 0001_v1_baseline` (or `alembic upgrade head`) first"
            )
        if conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.Identifier(table))).fetchone() != (False,):
            raise OperationRefused(
                f"table {table} already has rows: seed only fills an empty database; "
                "use a fresh database or drop the rows first"
            )
