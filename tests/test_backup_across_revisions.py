"""Backups and restores across revisions: a v2 database is copied whole; a v1 backup restored at v2."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import settings_for
from tests.helpers import v1_checksums
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.migration import revisions
from voice_migration.migration.backup import columns_of, create_backup
from voice_migration.migration.restore import plan_restore, restore_backup

Conn = psycopg.Connection[tuple[object, ...]]
V2_CONFIG_COLUMNS = ("assistant_type", "voice_config", "personality", "capabilities", "schema_version")


@pytest.fixture()
def seeded_url(v1_database_url: str) -> str:
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=20, calls=60))
    return v1_database_url


def fake_migrate(conn: Conn) -> None:
    """Set v2 values by hand (valid for the v2 constraints), whatever the backfill did."""
    conn.execute(
        "UPDATE voice_agent_configs SET assistant_type = 'inbound', "
        "voice_config = jsonb_build_object('voice_id', voice_id, 'language', 'es'), "
        "personality = jsonb_build_object('base_prompt', prompt, 'special_instructions', '[]'::jsonb), "
        "capabilities = '{}', schema_version = 'v2', migrated_at = now(), migrated_from = 'v1'"
    )


def test_a_backup_at_v2_copies_the_v2_columns_and_the_metrics(seeded_url: str) -> None:
    revisions.upgrade(settings_for(seeded_url), "head")
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        fake_migrate(conn)
        info = create_backup(conn)
        copied = {c.name for c in columns_of(conn, "voice_migration", f"{info.backup_id}_configs")}
        live = {c.name for c in columns_of(conn, "public", "voice_agent_configs")}
        assert copied == live and set(V2_CONFIG_COLUMNS) <= copied
        metrics = conn.execute("SELECT count(*) FROM voice_agent_metrics").fetchone()
        assert metrics is not None and info.metrics_count == metrics[0] and "metrics" in info.checksums
        assert info.alembic_revision == revisions.head_revision()


def test_a_v2_backup_restores_the_v2_columns_too(seeded_url: str) -> None:
    revisions.upgrade(settings_for(seeded_url), "head")
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        fake_migrate(conn)
        info = create_backup(conn)
        conn.execute("UPDATE voice_agent_configs SET voice_config = voice_config || '{\"speed\": 1.5}'")
        result = restore_backup(conn, info.backup_id)
        assert sum(t.changed for t in result.tables) == info.configs_count
        row = conn.execute("SELECT count(*) FROM voice_agent_configs WHERE voice_config ? 'speed'").fetchone()
        assert row == (0,)


def test_a_v1_backup_restored_at_v2_puts_rows_back_in_their_v1_shape(seeded_url: str) -> None:
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        before = v1_checksums(conn)
        info = create_backup(conn)  # what migrate takes before applying the revisions
    revisions.upgrade(settings_for(seeded_url), "head")
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        fake_migrate(conn)
        conn.execute("UPDATE voice_agent_configs SET prompt = 'broken by a bad deploy'")
        plan = plan_restore(conn, info.backup_id)
        configs = next(t for t in plan.tables if t.table == "voice_agent_configs")
        assert set(V2_CONFIG_COLUMNS) <= set(configs.columns_reset)
        restore_backup(conn, info.backup_id)
        assert v1_checksums(conn) == before
        row = conn.execute(
            "SELECT count(*) FROM voice_agent_configs WHERE schema_version IS NOT NULL OR voice_config IS NOT NULL"
        ).fetchone()
        assert row == (0,), "v2 columns the backup did not have are back to NULL: the config is unmigrated"
