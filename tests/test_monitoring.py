"""Monitoring objects of revision 0010 (issue #17): ``voice_migration.migration_progress`` and
``voice_migration.rollout_cohorts(window)``, read by psql, Supabase Studio, Grafana and Metabase.

They must tell the truth on a database caught half-way, agree with the health gate the CLI runs, be
readable by a dashboard role that cannot read tenant rows, and go away with the downgrade.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest
from psycopg import conninfo, sql

from tests.conftest import add_calls, add_tenants, settings_for
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.resources import read_sql
from voice_migration.migration import revisions
from voice_migration.rollout.health import cohort_stats

Conn = psycopg.Connection[tuple[object, ...]]
PROGRESS_COLUMNS = ("phase", "total", "migrated", "quarantined", "pending", "percent_done")


def progress(conn: Conn) -> dict[str, dict[str, object]]:
    """The view's rows by phase."""
    cur = conn.execute("SELECT * FROM voice_migration.migration_progress")
    names = [d.name for d in cur.description or ()]
    return {str(row[0]): dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def scalar(conn: Conn, query: str) -> int:
    row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return int(str(row[0]))


@pytest.fixture()
def half_migrated(v1_database_url: str) -> Iterator[Conn]:
    """Messy v1 data at head with the backfill stopped early: 10 configs and 100 calls walked, no metrics."""
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=40, calls=300, messy=True))
    config = revisions.alembic_config(v1_database_url)
    config.attributes["skip_backfill"] = True
    from alembic import command

    command.upgrade(config, "head")
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        conn.execute("SELECT * FROM voice_migration.backfill_step('configs', 10)")
        conn.execute("SELECT * FROM voice_migration.backfill_step('calls', 100)")
        yield conn


def test_migration_progress_counts_a_half_migrated_database(half_migrated: Conn) -> None:
    conn = half_migrated
    rows = progress(conn)
    assert list(rows) == ["configs", "calls", "metrics"]

    configs = rows["configs"]
    migrated = scalar(conn, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'")
    held = scalar(
        conn,
        "SELECT count(DISTINCT entity_id) FROM voice_migration.quarantine WHERE entity = 'config'",
    )
    assert 0 < migrated < 10 and held > 0  # the messy first batch: some migrated, some quarantined
    assert (configs["total"], configs["migrated"], configs["quarantined"]) == (40, migrated, held)
    assert configs["pending"] == 40 - migrated - held
    assert float(str(configs["percent_done"])) == round(100 * (migrated + held) / 40, 2)
    assert configs["last_batch_at"] is not None and configs["finished_at"] is None

    calls = rows["calls"]
    assert (calls["total"], calls["migrated"], calls["pending"]) == (300, 100, 200)
    assert float(str(calls["percent_done"])) == round(100 * 100 / 300, 2)
    assert calls["quarantined"] == scalar(
        conn, "SELECT count(DISTINCT entity_id) FROM voice_migration.quarantine WHERE entity = 'call'"
    )

    metrics = rows["metrics"]
    with_calls = scalar(
        conn,
        "SELECT count(*) FROM voice_agent_configs AS c WHERE c.id IN "
        "(SELECT k.config_id FROM voice_agent_calls AS k WHERE k.tenant_id = c.tenant_id)",
    )
    assert with_calls > 0
    assert (metrics["total"], metrics["migrated"], metrics["pending"], metrics["percent_done"]) == (
        with_calls,
        0,
        with_calls,
        0,
    )
    assert metrics["last_batch_at"] is None

    conn.execute("CALL voice_migration.backfill(1000)")
    done = progress(conn)
    assert [done[p]["pending"] for p in done] == [0, 0, 0]
    assert [float(str(done[p]["percent_done"])) for p in done] == [100.0, 100.0, 100.0]
    assert all(done[p]["finished_at"] is not None for p in done)
    assert done["configs"]["quarantined"] == 40 - scalar(
        conn, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'"
    )


def test_migration_progress_on_an_empty_database_is_complete(head_database_url: str) -> None:
    with psycopg.connect(head_database_url) as conn:
        rows = progress(conn)
    assert [(r["total"], r["pending"], float(str(r["percent_done"]))) for r in rows.values()] == [(0, 0, 100.0)] * 3


@pytest.fixture()
def traffic(head_database_url: str) -> Iterator[Conn]:
    """Calls in both cohorts over the last day, older calls outside it, and versions of neither cohort."""
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        add_tenants(conn, 2)
        add_calls(conn, "v1", 400, failed=8, latency_ms=400.0)
        add_calls(conn, "v2", 200, failed=10, latency_ms=500.0, age="2 hours")
        add_calls(conn, "V2", 50, latency_ms=520.0, age="30 minutes")  # case is ignored: v2
        add_calls(conn, "v1", 300, failed=300, age="3 days")  # outside a 24 h window
        add_calls(conn, "v3", 20)  # neither cohort
        conn.execute(
            "INSERT INTO voice_agent_calls (id, tenant_id, status, latency_ms, version, created_at) "
            "SELECT 'null-version-' || g, 'tenant-1', 'completed', 'NaN', NULL, now() - interval '5 minutes' "
            "FROM generate_series(1, 10) AS g"
        )
        yield conn


def cohorts(conn: Conn, window: str, now: datetime | None = None) -> dict[str, tuple[object, ...]]:
    rows = conn.execute(
        "SELECT cohort, calls, failed_calls, error_rate, p95_latency_ms FROM voice_migration.rollout_cohorts(%s, %s)",
        (window, now),
    ).fetchall()
    return {str(row[0]): tuple(row[1:]) for row in rows}


def test_rollout_cohorts_agree_with_the_health_gate(traffic: Conn) -> None:
    found = cohorts(traffic, "24 hours")
    # NULL version counts as v1 (the column default) and a NaN latency is no latency.
    assert found["v1"][:2] == (410, 8)
    assert found["v2"][:2] == (250, 10)
    assert float(str(found["v1"][2])) == pytest.approx(8 / 410, abs=1e-6)
    assert float(str(found["v2"][2])) == pytest.approx(10 / 250, abs=1e-6)
    assert found["v1"][3] == pytest.approx(400.0)
    assert found["v2"][3] == pytest.approx(520.0)

    clock = traffic.execute("SELECT now() - interval '1 hour'").fetchone()
    assert clock is not None and isinstance(clock[0], datetime)
    for window, now in ((timedelta(hours=24), None), (timedelta(days=7), None), (timedelta(hours=24), clock[0])):
        v1, v2 = cohort_stats(traffic, window, now=now)
        seen = cohorts(traffic, f"{int(window.total_seconds())} seconds", now)
        for gate, mine in ((v1, seen["v1"]), (v2, seen["v2"])):
            assert (gate.calls, gate.failed_calls) == mine[:2]
            assert gate.p95_latency_ms == mine[3]


def test_rollout_cohorts_returns_both_cohorts_even_without_calls(traffic: Conn) -> None:
    assert cohorts(traffic, "1 second") == {"v1": (0, 0, None, None), "v2": (0, 0, None, None)}


def test_the_cohorts_index_is_built_valid_and_used(traffic: Conn) -> None:
    row = traffic.execute(
        "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
        "WHERE i.indexrelid = to_regclass('public.voice_agent_calls_created_at_idx')"
    ).fetchone()
    assert row is not None and row[0] is True
    assert str(row[1]).endswith("USING btree (created_at)")
    traffic.execute("ANALYZE voice_agent_calls")
    with traffic.transaction():
        traffic.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            str(r[0])
            for r in traffic.execute(
                "EXPLAIN SELECT count(*) FROM voice_agent_calls WHERE created_at >= now() - interval '24 hours'"
            ).fetchall()
        )
    assert "voice_agent_calls_created_at_idx" in plan


@pytest.fixture()
def monitor_url(traffic: Conn, head_database_url: str) -> Iterator[str]:
    """A login in the voice_migration_monitor role (sql/security/monitoring_role.sql)."""
    login = f"grafana_{uuid.uuid4().hex[:8]}"
    traffic.execute(read_sql("security/monitoring_role.sql").encode())
    traffic.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE voice_migration_monitor").format(sql.Identifier(login)))
    params = conninfo.conninfo_to_dict(head_database_url)
    yield conninfo.make_conninfo(head_database_url, user=login, password=None)
    traffic.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(login)))
    traffic.execute("DROP OWNED BY voice_migration_monitor")
    assert params


def test_a_dashboard_role_reads_the_aggregates_and_no_tenant_row(monitor_url: str) -> None:
    with psycopg.connect(monitor_url, autocommit=True) as conn:
        assert list(progress(conn)) == ["configs", "calls", "metrics"]
        assert cohorts(conn, "24 hours")["v2"][:2] == (250, 10)
        for query in (
            "SELECT count(*) FROM voice_agent_calls",
            "SELECT count(*) FROM voice_migration.quarantine",
            "SELECT count(*) FROM voice_migration.backfill_progress",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(query)


def test_downgrade_drops_the_monitoring_objects_and_upgrade_brings_them_back(head_database_url: str) -> None:
    probe = (
        "SELECT to_regclass('voice_migration.migration_progress') IS NOT NULL, "
        "to_regprocedure('voice_migration.rollout_cohorts(interval, timestamptz)') IS NOT NULL, "
        "to_regclass('public.voice_agent_calls_created_at_idx') IS NOT NULL"
    )
    settings = settings_for(head_database_url)
    revisions.downgrade(settings, "0009_rules_compiled")
    with psycopg.connect(head_database_url) as conn:
        assert conn.execute(probe).fetchone() == (False, False, False)
    revisions.upgrade(settings, "head")
    with psycopg.connect(head_database_url) as conn:
        assert conn.execute(probe).fetchone() == (True, True, True)


def test_offline_sql_builds_the_index_outside_the_revision_transaction() -> None:
    text = revisions.offline_sql("0010_monitoring", start="0009_rules_compiled")
    before, _, after = text.partition("CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_created_at_idx")
    assert after, "0010 prints the index build"
    statements = [line for line in before.splitlines() if line.strip() and not line.startswith("--")]
    assert statements[-1] == "COMMIT;"  # autocommit_block ended the revision's transaction first
    assert "CREATE OR REPLACE VIEW voice_migration.migration_progress" in after
