"""The foundation: one Alembic head, the v1 baseline, offline SQL, the seed, and connection errors."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import settings_for
from tests.helpers import V1_COLUMNS, run_cli, table_checksum
from voice_migration.migration import revisions
from voice_migration.migration.revisions import BASELINE_REVISION


def test_the_revision_chain_has_exactly_one_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(revisions.alembic_config()).get_heads()
    assert len(heads) == 1
    assert revisions.known_revisions(sunset=False)[0] == BASELINE_REVISION


def test_upgrade_downgrade_upgrade_on_an_empty_database(database_url: str) -> None:
    settings = settings_for(database_url)
    revisions.upgrade(settings, "head")
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
    revisions.downgrade(settings, "base")
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) is None
        leftovers = conn.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND relkind = 'r' AND relname <> 'alembic_version'"
        ).fetchall()
        # public is empty again; the voice_migration schema keeps backups and downgrade archives on purpose.
        assert leftovers == []
    revisions.upgrade(settings, "head")
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()


def test_baseline_creates_exactly_the_v1_columns(v1_conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for table, expected in V1_COLUMNS.items():
        columns = v1_conn.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        assert tuple(name for name, _ in columns) == expected
        nullable = {name for name, null in columns if null == "YES"}
        assert nullable == set(expected) - {"id"}, "v1 is lax: every column but the key is nullable"
    foreign_keys = v1_conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    ).fetchone()
    assert foreign_keys == (0,)


def test_offline_sql_needs_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    text = revisions.offline_sql("head")
    assert "CREATE TABLE voice_agent_calls" in text
    assert "secret" not in text


def test_alembic_command_line_prints_offline_sql_without_a_database() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head", "--sql"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "INSERT INTO alembic_version" in result.stdout


def test_an_existing_v1_database_is_adopted_with_stamp(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(revisions_sql_baseline())
        conn.execute("INSERT INTO tenants VALUES ('t1', 'Acme', now())")
    from alembic import command

    command.stamp(revisions.alembic_config(database_url), BASELINE_REVISION)
    revisions.upgrade(settings_for(database_url), "head")
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
        assert conn.execute("SELECT name FROM tenants").fetchall() == [("Acme",)]


def revisions_sql_baseline() -> bytes:
    from voice_migration.infra.resources import read_sql

    return read_sql("revisions/0001_v1_baseline/10_v1_schema.sql").encode()


def test_seed_is_deterministic_for_a_given_seed(v1_database_url: str, database_url: str) -> None:
    args = ["seed", "--tenants", "5", "--configs", "70", "--calls", "400", "--messy", "--seed", "7"]
    first = run_cli(args, database_url=v1_database_url)
    assert first.returncode == 0, first.stderr
    revisions.upgrade(settings_for(database_url), BASELINE_REVISION)
    second = run_cli(args, database_url=database_url)
    assert second.returncode == 0, second.stderr
    with psycopg.connect(v1_database_url) as a, psycopg.connect(database_url) as b:
        for table in V1_COLUMNS:
            assert table_checksum(a, table) == table_checksum(b, table)


def test_a_different_seed_gives_different_data(v1_database_url: str, database_url: str) -> None:
    assert (
        run_cli(["seed", "--configs", "70", "--calls", "100", "--seed", "1"], database_url=v1_database_url).returncode
        == 0
    )
    revisions.upgrade(settings_for(database_url), BASELINE_REVISION)
    assert (
        run_cli(["seed", "--configs", "70", "--calls", "100", "--seed", "2"], database_url=database_url).returncode == 0
    )
    with psycopg.connect(v1_database_url) as a, psycopg.connect(database_url) as b:
        assert table_checksum(a, "voice_agent_calls") != table_checksum(b, "voice_agent_calls")


MESSY_PROBES = {
    "NULL prompt": "SELECT count(*) FROM voice_agent_configs WHERE prompt IS NULL",
    "empty prompt": "SELECT count(*) FROM voice_agent_configs WHERE prompt = ''",
    "NULL voice_id": "SELECT count(*) FROM voice_agent_configs WHERE voice_id IS NULL",
    "duplicate (tenant, name)": "SELECT count(*) FROM (SELECT tenant_id, name FROM voice_agent_configs "
    "GROUP BY 1, 2 HAVING count(*) > 1) d",
    "config with missing tenant": "SELECT count(*) FROM voice_agent_configs c WHERE NOT EXISTS "
    "(SELECT FROM tenants t WHERE t.id = c.tenant_id)",
    "call with missing config": "SELECT count(*) FROM voice_agent_calls k WHERE NOT EXISTS "
    "(SELECT FROM voice_agent_configs c WHERE c.id = k.config_id)",
    "call tenant differs from config's": "SELECT count(*) FROM voice_agent_calls k JOIN voice_agent_configs c "
    "ON c.id = k.config_id WHERE c.tenant_id <> k.tenant_id",
    "negative duration": "SELECT count(*) FROM voice_agent_calls WHERE duration_seconds < 0",
    "NULL latency": "SELECT count(*) FROM voice_agent_calls WHERE latency_ms IS NULL",
    "NULL outcome": "SELECT count(*) FROM voice_agent_calls WHERE outcome IS NULL",
    "NULL direction": "SELECT count(*) FROM voice_agent_calls WHERE direction IS NULL",
    "emoji, quote and backslash in a prompt": "SELECT count(*) FROM voice_agent_configs "
    "WHERE prompt LIKE '%👋%' AND prompt LIKE '%''%' AND strpos(prompt, chr(92)) > 0",
    "very long prompt": "SELECT count(*) FROM voice_agent_configs WHERE length(prompt) > 50000",
    "NULL language": "SELECT count(*) FROM voice_agent_configs WHERE language IS NULL",
}
MESSY_SPELLINGS = {
    ("voice_agent_configs", "language"): [
        "es",
        "ES",
        "es_MX",
        "Spanish",
        "español",
        "en_US",
        "english",
        "",
        "klingon",
    ],
    ("voice_agent_calls", "outcome"): ["Cita Agendada", "NO ANSWER", "appointment-booked", ""],
    ("voice_agent_calls", "direction"): ["in", "OUT"],
}


def test_messy_seed_plants_every_case(v1_database_url: str, v1_conn: psycopg.Connection[tuple[object, ...]]) -> None:
    result = run_cli(
        ["seed", "--tenants", "3", "--configs", "64", "--calls", "50", "--messy"],
        database_url=v1_database_url,
    )
    assert result.returncode == 0, result.stderr
    for case, query in MESSY_PROBES.items():
        row = v1_conn.execute(query.encode()).fetchone()
        assert row is not None and row[0] > 0, f"--messy did not plant: {case}"
    for (table, column), spellings in MESSY_SPELLINGS.items():
        present = {r[0] for r in v1_conn.execute(f"SELECT DISTINCT {column} FROM {table}".encode()).fetchall()}
        assert set(spellings) <= present, f"{table}.{column} misses {set(spellings) - present}"


def test_clean_seed_plants_no_damage(v1_database_url: str, v1_conn: psycopg.Connection[tuple[object, ...]]) -> None:
    assert run_cli(["seed", "--configs", "128", "--calls", "500"], database_url=v1_database_url).returncode == 0
    for case in (
        "NULL prompt",
        "config with missing tenant",
        "call with missing config",
        "negative duration",
    ):
        row = v1_conn.execute(MESSY_PROBES[case].encode()).fetchone()
        assert row == (0,), case


def test_seed_refuses_a_database_that_has_rows(
    v1_database_url: str, v1_conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    v1_conn.execute("INSERT INTO tenants (id) VALUES ('already-here')")
    result = run_cli(["seed"], database_url=v1_database_url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "already has rows" in result.stderr


def test_a_plain_postgresql_url_works_for_alembic(v1_database_url: str) -> None:
    assert v1_database_url.startswith("postgresql://")
    revisions.upgrade(settings_for(v1_database_url), "head")
    with psycopg.connect(v1_database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:hunter2@127.0.0.1:1/nowhere",
        "mysql://root:hunter2@localhost/db",
        "not a url",
    ],
)
def test_a_wrong_database_url_gives_one_clear_line_and_exit_2(url: str) -> None:
    result = run_cli(["seed"], database_url=url, env={"VOICE_MIGRATION_CONNECT_TIMEOUT": "2"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_no_database_url_at_all_is_a_configuration_error() -> None:
    result = run_cli(["seed"])
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
