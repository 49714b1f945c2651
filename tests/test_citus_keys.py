"""The off-by-default Citus revision c001_citus_tenant_keys (issue #17 point 10, docs/scaling.md).

Citus requires every primary key and unique constraint of a table distributed by tenant_id to include
tenant_id. c001 makes configs' and calls' primary keys (tenant_id, id) online; a plain ``alembic upgrade
head`` never applies it; its downgrade restores the 0012 schema exactly.
"""

from __future__ import annotations

import io

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from tests.helpers import v1_checksums
from voice_migration.infra.resources import alembic_ini
from voice_migration.migration import revisions

CITUS = "c001_citus_tenant_keys"
BEFORE = "0012_one_home_per_concept"

# Everything about keys and indexes of the tenant tables that c001 may change, as the catalog says it.
SCHEMA = """
SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated::text
  FROM pg_constraint
 WHERE conrelid IN ('voice_agent_configs'::regclass, 'voice_agent_calls'::regclass, 'voice_agent_metrics'::regclass)
UNION ALL
SELECT 'index', indrelid::regclass::text, indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid::text
  FROM pg_index
 WHERE indrelid IN ('voice_agent_configs'::regclass, 'voice_agent_calls'::regclass, 'voice_agent_metrics'::regclass)
UNION ALL
SELECT 'column', attrelid::regclass::text, attname, format_type(atttypid, atttypmod), attnotnull::text
  FROM pg_attribute
 WHERE attrelid IN ('voice_agent_configs'::regclass, 'voice_agent_calls'::regclass) AND attnum > 0
   AND NOT attisdropped
ORDER BY 1, 2, 3
"""


def citus_config(url: str | None = None, output: io.StringIO | None = None) -> Config:
    """The alembic.ini section ``[citus]``, as ``alembic -n citus`` reads it."""
    config = Config(str(alembic_ini()), ini_section="citus", stdout=io.StringIO(), output_buffer=output)
    if url:
        config.attributes["database_url"] = url
    return config


def schema(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(SCHEMA).fetchall()


def primary_key(conn: psycopg.Connection[tuple[object, ...]], table: str) -> str:
    row = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        (table,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_plain_upgrade_head_never_reaches_the_citus_revision() -> None:
    assert revisions.head_revision() == BEFORE
    assert CITUS not in revisions.known_revisions(sunset=True)
    script = ScriptDirectory.from_config(citus_config())
    assert script.get_heads() == [CITUS]
    assert script.get_revision("citus@head").revision == CITUS


def test_c001_upgrades_and_downgrades_a_migrated_database(migrated_url: str) -> None:
    before = schema(migrated_url)
    with psycopg.connect(migrated_url) as conn:
        rows_before = v1_checksums(conn)

    command.upgrade(citus_config(migrated_url), "citus@head")
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        assert revisions.current_revision(conn) == CITUS
        assert primary_key(conn, "voice_agent_configs") == "PRIMARY KEY (tenant_id, id)"
        assert primary_key(conn, "voice_agent_calls") == "PRIMARY KEY (tenant_id, id)"
        invalid = conn.execute(
            "SELECT count(*) FROM pg_index WHERE NOT indisvalid AND indrelid IN "
            "('voice_agent_configs'::regclass, 'voice_agent_calls'::regclass, 'voice_agent_metrics'::regclass)"
        ).fetchone()
        assert invalid == (0,)
        assert v1_checksums(conn) == rows_before  # no row touched
        # The application and the backfill keep working on the new keys.
        conn.execute(
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, status, created_at) "
            "SELECT 'citus-call-1', tenant_id, id, 'completed', now() FROM voice_agent_configs "
            "WHERE schema_version = 'v2' ORDER BY id LIMIT 1"
        )
        conn.execute("CALL voice_migration.backfill(7)")
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute("INSERT INTO voice_agent_configs (id, tenant_id) VALUES ('no-tenant', NULL)")
        conn.execute("DELETE FROM voice_agent_calls WHERE id = 'citus-call-1'")
        conn.execute("CALL voice_migration.backfill(7)")

    command.downgrade(citus_config(migrated_url), BEFORE)
    assert schema(migrated_url) == before
    with psycopg.connect(migrated_url) as conn:
        assert revisions.current_revision(conn) == BEFORE
        assert v1_checksums(conn) == rows_before


def test_c001_refuses_rows_without_a_tenant_and_changes_nothing(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute("INSERT INTO voice_agent_calls (id, tenant_id, status) VALUES ('orphan-call', NULL, 'completed')")
    before = schema(migrated_url)
    with pytest.raises(Exception, match=r"citus tenant keys refused: 0 configs and 1 calls have no tenant_id"):
        command.upgrade(citus_config(migrated_url), "citus@head")
    assert schema(migrated_url) == before
    with psycopg.connect(migrated_url) as conn:
        assert revisions.current_revision(conn) == BEFORE


def test_c001_downgrade_refuses_an_id_shared_by_two_tenants(migrated_url: str) -> None:
    command.upgrade(citus_config(migrated_url), "citus@head")
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO voice_agent_calls (id, tenant_id, status) "
            "SELECT id, tenant_id || '-other', 'completed' FROM voice_agent_calls ORDER BY id LIMIT 1"
        )
    with pytest.raises(Exception, match=r"downgrade refused: 0 config ids and 1 call ids are used by more than one"):
        command.downgrade(citus_config(migrated_url), BEFORE)
    with psycopg.connect(migrated_url) as conn:
        assert revisions.current_revision(conn) == CITUS
        assert primary_key(conn, "voice_agent_calls") == "PRIMARY KEY (tenant_id, id)"


def test_c001_offline_sql_runs_every_step_outside_a_transaction() -> None:
    out = io.StringIO()
    command.upgrade(citus_config(output=out), f"{BEFORE}:citus@head", sql=True)
    text = out.getvalue()
    body = text.partition("-- Running upgrade 0012_one_home_per_concept -> c001_citus_tenant_keys")[2]
    statements = [line for line in body.splitlines() if line.strip() and not line.startswith("--")]
    assert statements[2] == "COMMIT;"  # after SET lock_timeout and SET statement_timeout
    assert "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_tenant_id_id_key" in body
    assert body.index("VALIDATE CONSTRAINT voice_agent_calls_tenant_id_not_null") < body.index(
        "PRIMARY KEY USING INDEX voice_agent_calls_tenant_id_id_key"
    )
