"""The v1 pre-flight: the same check mechanism on v1 columns, usable on a v1-only database."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.embedded import find_server_bindir
from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.infra.resources import sql_dir
from voice_migration.migration import validation

Conn = psycopg.Connection[tuple[object, ...]]
PREFLIGHT_CHECKS = {"orphans", "duplicates", "nulls", "unknown_spellings", "out_of_range"}


@pytest.fixture()
def clean_v1(v1_database_url: str) -> Iterator[Conn]:
    """A v1 database with a little clean generated data (3 tenants, 12 configs, 120 calls)."""
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=12, calls=120))
        yield conn


def _rows(report: validation.ValidationReport, check: str) -> tuple[validation.Violation, ...]:
    return next(r.examples for r in report.results if r.check.name == check)


def test_every_preflight_check_passes_on_clean_v1_data(clean_v1: Conn) -> None:
    report = validation.run_preflight(clean_v1)
    assert {r.check.name for r in report.results} == PREFLIGHT_CHECKS
    assert [(r.check.name, r.violations) for r in report.results if r.status != "passed"] == []
    assert report.ok


# One planted v1 violation per check: (check, SQL, entity, id, severity, words the detail must carry).
PLANTED = [
    (
        "orphans",
        "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
        "VALUES ('cfg_planted', 'tenant_gone', 'Planted', 'Hola', 'voice_1', 'es', true)",
        "config",
        "cfg_planted",
        "medium",
        "tenant_gone does not exist",
    ),
    (
        "orphans",
        "UPDATE voice_agent_calls SET config_id = 'cfg_gone' WHERE id = 'call_0000000001'",
        "call",
        "call_0000000001",
        "medium",
        "missing_config",
    ),
    (
        "duplicates",
        "UPDATE voice_agent_configs SET name = (SELECT name FROM voice_agent_configs WHERE id = 'cfg_00000001') "
        "WHERE id = 'cfg_00000004'",
        "config",
        "cfg_00000004",
        "medium",
        "2 configs",
    ),
    (
        "nulls",
        "UPDATE voice_agent_configs SET voice_id = NULL WHERE id = 'cfg_00000002'",
        "config",
        "cfg_00000002",
        "medium",
        "missing_voice_id",
    ),
    (
        "nulls",
        "UPDATE voice_agent_calls SET direction = '  ' WHERE id = 'call_0000000002'",
        "call",
        "call_0000000002",
        "low",
        "direction is blank",
    ),
    (
        "unknown_spellings",
        "UPDATE voice_agent_configs SET language = 'Español' WHERE id = 'cfg_00000003'",
        "config",
        "cfg_00000003",
        "low",
        "'Español'",
    ),
    (
        "unknown_spellings",
        "UPDATE voice_agent_calls SET outcome = 'Cita Agendada' WHERE id = 'call_0000000003'",
        "call",
        "call_0000000003",
        "low",
        "'Cita Agendada'",
    ),
    (
        "out_of_range",
        "UPDATE voice_agent_calls SET latency_ms = -5 WHERE id = 'call_0000000004'",
        "call",
        "call_0000000004",
        "medium",
        "latency_ms -5 is negative",
    ),
]


@pytest.mark.parametrize(
    ("check", "plant", "entity", "ident", "severity", "words"), PLANTED, ids=[p[0] + ":" + p[3] for p in PLANTED]
)
def test_a_planted_v1_violation_is_reported_by_its_own_check(
    clean_v1: Conn, check: str, plant: str, entity: str, ident: str, severity: str, words: str
) -> None:
    clean_v1.execute(plant.encode())
    clean_v1.commit()
    report = validation.run_preflight(clean_v1)
    failing = {r.check.name for r in report.results if r.status != "passed"}
    assert failing == {check}
    rows = _rows(report, check)
    assert [(v.entity, v.id, v.severity) for v in rows if v.id == ident] == [(entity, ident, severity)]
    assert words in next(v.detail for v in rows if v.id == ident)
    assert report.ok, "nothing the pre-flight finds stops a migration"


def test_the_messy_seed_is_reported_with_counts_and_a_few_examples(v1_database_url: str) -> None:
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=64, calls=200, messy=True))
        report = validation.run_preflight(conn)
    results = {r.check.name: r for r in report.results}
    assert results["orphans"].counts["medium"] > validation.EXAMPLES_PER_SEVERITY
    assert len(results["orphans"].examples) == validation.EXAMPLES_PER_SEVERITY
    assert set(results["nulls"].counts) == {"medium", "low"}
    assert results["unknown_spellings"].status == "warning"
    # Issue #17 point 8: medium pre-flight findings never stop a migration, so they are warnings, not failures.
    assert (report.failed, report.warnings, report.passed) == (0, 5, 0)


def test_tenant_scope_limits_the_rows_to_those_tenants(clean_v1: Conn) -> None:
    clean_v1.execute(
        "UPDATE voice_agent_calls SET latency_ms = -1 WHERE id IN ('call_0000000001', 'call_0000000002', "
        "'call_0000000003')"
    )
    clean_v1.commit()
    tenant = clean_v1.execute("SELECT tenant_id FROM voice_agent_calls WHERE id = 'call_0000000001'").fetchone()
    assert tenant is not None
    everything = validation.run_preflight(clean_v1, checks=["out_of_range"])
    scoped = validation.run_preflight(clean_v1, [str(tenant[0])], checks=["out_of_range"])
    assert everything.results[0].violations == 3
    assert {v.tenant_id for v in scoped.results[0].examples} == {tenant[0]}
    assert 1 <= scoped.results[0].violations < 3
    assert scoped.tenant_ids == (tenant[0],)


def test_an_unknown_tenant_id_is_refused_rather_than_passing_on_nothing(clean_v1: Conn) -> None:
    with pytest.raises(UsageError, match="tenant_nope"):
        validation.run_preflight(clean_v1, ["tenant_nope"])


def test_an_unknown_check_name_is_a_usage_error(clean_v1: Conn) -> None:
    with pytest.raises(UsageError, match="no_such_check"):
        validation.run_preflight(clean_v1, checks=["no_such_check"])


def test_v2_validation_of_a_v1_only_database_is_refused_with_what_to_do(clean_v1: Conn) -> None:
    with pytest.raises(OperationRefused, match="alembic upgrade head"):
        validation.run_validation(clean_v1)


def test_a_database_without_the_v1_tables_is_refused(database_url: str) -> None:
    with psycopg.connect(database_url) as conn, pytest.raises(OperationRefused, match="v1 tables"):
        validation.run_preflight(conn)


def test_validate_preflight_command_prints_json_and_exits_0_on_messy_v1(v1_database_url: str) -> None:
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=64, calls=100, messy=True))
    result = run_cli(["validate", "--preflight", "--format", "json"], database_url=v1_database_url)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "preflight" and report["ok"] is True
    assert report["summary"]["failed"] == 0 and report["summary"]["warnings"] == 5  # issue #17 point 8
    assert {c["name"] for c in report["checks"]} == PREFLIGHT_CHECKS


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--check", "bogus"], "unknown preflight check bogus"),
        (["--fix"], "cannot be combined"),
        (["--tenant-ids", " , "], "--tenant-ids is empty"),
    ],
)
def test_validate_usage_errors_exit_2_with_one_line(v1_database_url: str, args: list[str], words: str) -> None:
    result = run_cli(["validate", "--preflight", *args], database_url=v1_database_url)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert result.stdout == ""


def test_validate_on_a_v1_database_exits_1_and_says_to_migrate(v1_database_url: str) -> None:
    result = run_cli(["validate"], database_url=v1_database_url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot run the validation checks") and "migrate" in result.stderr


@pytest.mark.parametrize("path", sorted((sql_dir() / "preflight").glob("*.sql")), ids=lambda p: p.stem)
def test_every_preflight_file_runs_under_psql_with_a_tenant_scope_set_by_hand(v1_database_url: str, path: Path) -> None:
    tenants = ["tenant_000001", "tenant_000002"]
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=64, calls=150, messy=True))
        expected = validation.run_preflight(conn, tenants, checks=[path.stem]).results[0].violations
    assert expected > 0
    result = psql_file(v1_database_url, path, f"SET voice_migration.tenant_ids = '{','.join(tenants)}'")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == expected


def psql_file(url: str, path: Path, setup: str) -> subprocess.CompletedProcess[str]:
    """Run ``setup`` then the file with psql, as a DBA would; unaligned rows on stdout."""
    bindir = find_server_bindir()
    assert bindir is not None, "psql is needed"
    return subprocess.run(
        [str(bindir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", setup, "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
