"""``validate --fix``: repairs exactly the safe cases, says what it did, never deletes, is idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli
from tests.test_validation_checks import REPLICA, plant, result_of
from tests.test_validation_preflight import psql_file
from tests.test_validation_report import SCHEMA_FILE, schema_errors
from voice_migration.infra.resources import sql_dir
from voice_migration.migration import validation

Conn = psycopg.Connection[tuple[object, ...]]
COUNTS = (
    "SELECT (SELECT count(*) FROM voice_agent_configs), (SELECT count(*) FROM voice_agent_calls), "
    "(SELECT count(*) FROM voice_agent_metrics), (SELECT count(*) FROM voice_migration.quarantine)"
)
# One of each fixable kind, and one that is not fixable (a call pointing at no config, not quarantined).
FIXABLE = (
    REPLICA,
    "UPDATE voice_agent_configs SET voice_id = 'voice_99', language = 'Spanish' WHERE id = 'cfg_00000001'",
    "UPDATE voice_agent_configs SET personality = personality - 'special_instructions' WHERE id = 'cfg_00000002'",
    "UPDATE voice_agent_metrics SET total_calls = total_calls + 5 WHERE config_id = 'cfg_00000003'",
)
UNFIXABLE = (
    REPLICA,
    "INSERT INTO voice_agent_calls (id, tenant_id, config_id, status, outcome_code, outcome_source) "
    "VALUES ('call_orphan', 'tenant_000001', 'cfg_nowhere', 'completed', 'other', 'inferred')",
)


@pytest.fixture()
def damaged(migrated_url: str) -> Iterator[Conn]:
    """Clean migrated data with one drifted config, one empty special_instructions, one stale metrics row."""
    with psycopg.connect(migrated_url) as conn:
        plant(conn, *FIXABLE)
        yield conn


def test_every_fix_file_is_run_by_validate_fix() -> None:
    assert {p.stem for p in (sql_dir() / "fix").glob("*.sql")} == set(validation.FIX_ORDER)


def test_fix_repairs_each_fixable_kind_and_says_how_many_rows(damaged: Conn) -> None:
    before = validation.run_validation(damaged)
    assert {r.check.name for r in before.results if r.status != "passed"} == {
        "v1_v2_consistency",
        "empty_special_instructions",
        "metrics_accuracy",
    }
    report = validation.fix(damaged)
    assert {a.name: a.rows for a in report.actions} == {
        "drifted_v2_columns": 1,
        "empty_special_instructions": 1,
        "stale_metrics": 1,
    }
    assert report.validation.ok and report.validation.passed == len(report.validation.results)


def test_fix_recomputes_v2_from_v1_and_leaves_the_v1_columns_alone(damaged: Conn) -> None:
    validation.fix(damaged)
    row = damaged.execute(
        "SELECT voice_id, language, voice_config ->> 'voice_id', voice_config ->> 'language' "
        "FROM voice_agent_configs WHERE id = 'cfg_00000001'"
    ).fetchone()
    assert row == ("voice_99", "Spanish", "voice_99", "es")
    instructions = damaged.execute(
        "SELECT personality -> 'special_instructions' FROM voice_agent_configs WHERE id = 'cfg_00000002'"
    ).fetchone()
    assert instructions == ([],)


def test_fix_is_idempotent_and_never_deletes(damaged: Conn) -> None:
    counts = damaged.execute(COUNTS).fetchone()
    first = validation.fix(damaged)
    second = validation.fix(damaged)
    assert first.rows == 3 and second.rows == 0
    assert [a.rows for a in second.actions] == [0, 0, 0]
    assert damaged.execute(COUNTS).fetchone() == counts


def test_fix_leaves_what_is_not_safe_to_repair_and_validation_still_fails(damaged: Conn) -> None:
    plant(damaged, *UNFIXABLE)
    report = validation.fix(damaged)
    assert report.rows == 3
    foreign_keys = result_of(report.validation, "foreign_keys")
    assert [(v.id, v.severity) for v in foreign_keys.examples] == [("call_orphan", "critical")]
    assert not report.validation.ok
    assert damaged.execute("SELECT count(*) FROM voice_agent_calls WHERE id = 'call_orphan'").fetchone() == (1,)


def test_fix_in_a_tenant_scope_repairs_only_that_tenant(damaged: Conn) -> None:
    report = validation.fix(damaged, ["tenant_000002"])
    assert {a.name: a.rows for a in report.actions} == {
        "drifted_v2_columns": 0,
        "empty_special_instructions": 1,  # cfg_00000002 belongs to tenant_000002
        "stale_metrics": 0,
    }
    everyone = validation.run_validation(damaged)
    assert {r.check.name for r in everyone.results if r.status != "passed"} == {"v1_v2_consistency", "metrics_accuracy"}


def test_fix_inside_a_callers_transaction_is_rolled_back_with_it(damaged: Conn) -> None:
    damaged.execute("SELECT 1")  # the caller's transaction is open, as in a dry run
    report = validation.fix(damaged)
    assert report.rows == 3 and report.validation.ok
    assert damaged.execute("SELECT current_setting('voice_migration.backfill', true)").fetchone() in {("",), (None,)}
    damaged.rollback()
    assert not validation.run_validation(damaged).ok


def test_validate_fix_command_prints_what_it_did_then_the_report(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        plant(conn, *FIXABLE)
    result = run_cli(["validate", "--fix"], database_url=migrated_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Fixes applied", "============="]
    assert lines[2] == "drifted_v2_columns: 1 configs whose drifted v2 values were recomputed from v1"
    assert "Validation of all tenants" in lines
    again = run_cli(["validate", "--fix", "--format", "json"], database_url=migrated_url)
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    assert [f["rows"] for f in document["fixes"]] == [0, 0, 0] and document["ok"] is True


def test_validate_fix_command_exits_1_when_unfixable_damage_remains(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        plant(conn, *UNFIXABLE)
    result = run_cli(["validate", "--fix", "--check", "foreign_keys"], database_url=migrated_url)
    assert result.returncode == 1
    assert "✗ foreign_keys [critical]: 1 (1 critical)" in result.stdout


@pytest.mark.parametrize("path", sorted((sql_dir() / "fix").glob("*.sql")), ids=lambda p: p.stem)
def test_every_fix_file_runs_under_psql_and_returns_the_rows_it_fixed(migrated_url: str, path: Path) -> None:
    with psycopg.connect(migrated_url) as conn:
        plant(conn, *FIXABLE)
    result = psql_file(migrated_url, path, "SET voice_migration.backfill = 'on'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1"]
    again = psql_file(migrated_url, path, "SET voice_migration.backfill = 'on'")
    assert again.stdout.split() == ["0"]


def test_the_json_of_validate_fix_matches_the_documented_schema(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        plant(conn, *FIXABLE)
    result = run_cli(["validate", "--fix", "--format", "json"], database_url=migrated_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert schema_errors(document, json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))) == []
    assert [(f["name"], f["rows"]) for f in document["fixes"]] == [(name, 1) for name in validation.FIX_ORDER]
