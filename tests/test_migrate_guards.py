"""The guards of `migrate`: revision, options, tenant scope, confirmation, one run at a time, no password."""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import database_checksum, run_cli
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.locks import LOCK_NAMESPACE, LOCK_OPERATION


@pytest.fixture()
def seeded_url(v1_database_url: str) -> str:
    """A small, messy v1 database at the baseline revision."""
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=64, calls=120, messy=True))
    return v1_database_url


def checksum(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return database_checksum(conn)


def assert_one_error_line(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in stderr


def test_a_database_without_an_alembic_revision_is_refused_with_the_stamp_command(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE tenants (id text PRIMARY KEY)")
    result = run_cli(["migrate", "--yes"], database_url=database_url)
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "no Alembic revision", "alembic stamp 0001_v1_baseline")


def test_an_unknown_revision_is_refused(seeded_url: str) -> None:
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'abc123_someone_elses'")
    before = checksum(seeded_url)
    result = run_cli(["migrate", "--yes"], database_url=seeded_url)
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "abc123_someone_elses", "alembic stamp")
    assert checksum(seeded_url) == before


@pytest.mark.parametrize("size", ["0", "-5", "100001"])
def test_a_batch_size_out_of_range_is_a_usage_error(seeded_url: str, size: str) -> None:
    result = run_cli(["migrate", "--yes", "--batch-size", size], database_url=seeded_url)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "--batch-size")


def test_unknown_tenant_ids_are_a_usage_error_and_change_nothing(seeded_url: str) -> None:
    before = checksum(seeded_url)
    result = run_cli(["migrate", "--yes", "--tenant-ids", "tenant_000001,ghost,nope"], database_url=seeded_url)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "'ghost'", "'nope'")
    assert checksum(seeded_url) == before


def test_without_a_terminal_and_without_yes_migrate_is_refused(seeded_url: str) -> None:
    before = checksum(seeded_url)
    result = run_cli(["migrate"], database_url=seeded_url)
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "not a terminal", "--yes")
    assert checksum(seeded_url) == before


def test_skip_backup_warns_loudly(seeded_url: str) -> None:
    result = run_cli(["migrate", "--skip-backup"], database_url=seeded_url)
    assert "WARNING: --skip-backup" in result.stderr
    assert result.returncode == 1, "still refused: no terminal and no --yes"


def test_a_second_concurrent_run_is_refused_at_once(seeded_url: str) -> None:
    before = checksum(seeded_url)
    with psycopg.connect(seeded_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, LOCK_OPERATION))
        result = run_cli(["migrate", "--yes"], database_url=seeded_url, timeout=30)
    assert result.returncode == 1
    assert_one_error_line(result.stderr, "another voice-migration migrate or data restore is running", "server pid")
    assert checksum(seeded_url) == before


def test_the_password_never_appears_in_migrate_output(seeded_url: str) -> None:
    with_password = seeded_url.replace("postgresql://postgres@", "postgresql://postgres:hunter2@")
    unreachable = "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"
    for url in (with_password, unreachable):
        result = run_cli(
            ["migrate", "--dry-run", "--verbose", "--log-format", "json"],
            database_url=url,
            env={"VOICE_MIGRATION_CONNECT_TIMEOUT": "2"},
        )
        assert result.returncode in (0, 1, 2)
        assert "hunter2" not in result.stdout + result.stderr


def test_an_unreachable_database_is_one_line_and_exit_2() -> None:
    result = run_cli(
        ["migrate", "--dry-run"],
        database_url="postgresql://postgres:hunter2@127.0.0.1:1/nowhere",
        env={"VOICE_MIGRATION_CONNECT_TIMEOUT": "2"},
    )
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "cannot connect to postgresql://postgres:***@127.0.0.1:1/nowhere")


# A v1 database can carry constraints a DBA added by hand (here simulated by a trigger that raises what
# a unique or foreign-key constraint raises), which a batch may trip over. The operator must learn which
# rows and which check to run, in one line, and keep every batch committed before it.
INTEGRITY_TRAP = """
CREATE FUNCTION public.integrity_trap() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF NEW.id = 'cfg_00000040' THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "configs_tenant_name_key"'
            USING ERRCODE = '{code}', TABLE = 'voice_agent_configs',
                  DETAIL = 'Key (tenant_id, name)=(tenant_000001, Agent 14) already exists.';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER integrity_trap BEFORE UPDATE ON public.voice_agent_configs
    FOR EACH ROW EXECUTE FUNCTION public.integrity_trap();
"""


@pytest.mark.parametrize(("code", "check"), [("23505", "duplicates"), ("23503", "foreign_keys")])
def test_a_constraint_violation_in_v1_data_names_the_rows_and_the_check_to_run(
    seeded_url: str, code: str, check: str
) -> None:
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        conn.execute(INTEGRITY_TRAP.replace("{code}", code).encode())
    result = run_cli(["migrate", "--yes", "--skip-backup", "--batch-size", "10"], database_url=seeded_url)
    assert result.returncode == 1
    assert_one_error_line(
        result.stderr,
        "transform configs stopped on v1 data",
        "Key (tenant_id, name)=(tenant_000001, Agent 14) already exists.",
        f"voice-migration validate --check {check}",
    )
    with psycopg.connect(seeded_url) as conn:
        migrated = conn.execute(
            "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2' AND id < 'cfg_00000031'"
        ).fetchone()
        trapped = conn.execute("SELECT schema_version FROM voice_agent_configs WHERE id = 'cfg_00000040'").fetchone()
    assert migrated is not None and migrated[0] > 0, "the batches before the failing one stay committed"
    assert trapped == (None,), "the failing batch was rolled back"
