"""The v2 checks: each passes on clean migrated data and fails on a planted violation of its own kind.

Some violations can only exist when a guard is off (a CHECK constraint dropped, the dual-write
triggers bypassed with ``session_replication_role = replica``): that is how they reach production,
and the checks exist to catch them then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli
from tests.test_validation_preflight import psql_file
from voice_migration.infra.resources import sql_dir
from voice_migration.migration import validation

Conn = psycopg.Connection[tuple[object, ...]]
V2_CHECKS = {p.stem for p in (sql_dir() / "validation").glob("*.sql")}
# Bypass the dual-write triggers for one statement, as a careless bulk load would.
REPLICA = "SET LOCAL session_replication_role = replica"
NEW_CONFIG = (
    "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
    "VALUES ('cfg_planted', 'tenant_000001', 'Planted', 'Eres la recepcionista. Agenda citas.', 'voice_1', 'es', true)"
)


@pytest.fixture()
def migrated(migrated_url: str) -> Iterator[Conn]:
    """A connection to clean migrated data with a backup."""
    with psycopg.connect(migrated_url) as conn:
        yield conn


def result_of(report: validation.ValidationReport, check: str) -> validation.CheckResult:
    """The result of ``check`` in ``report``."""
    return next(r for r in report.results if r.check.name == check)


def plant(conn: Conn, *statements: str) -> None:
    """Run ``statements`` in one transaction and commit."""
    with conn.transaction():
        for statement in statements:
            conn.execute(statement.encode())


def test_every_check_passes_on_clean_migrated_data(migrated: Conn) -> None:
    report = validation.run_validation(migrated)
    assert {r.check.name for r in report.results} == V2_CHECKS
    assert len(V2_CHECKS) >= 12
    assert [(r.check.name, r.counts) for r in report.results if r.status != "passed"] == []
    assert report.ok and report.passed == len(V2_CHECKS)


def test_every_check_file_declares_its_name_and_a_known_severity() -> None:
    for check in validation.available_checks("validation") + validation.available_checks("preflight"):
        assert check.name == Path(check.path).stem
        assert check.severity in validation.SEVERITIES
        assert check.description


# (check, statements that plant one violation, entity, id, severity of its row)
PLANTED = [
    (
        "record_counts",
        ["DELETE FROM voice_agent_calls WHERE id = 'call_0000000007'"],
        "voice_agent_calls",
        None,
        "critical",
    ),
    (
        "data_integrity",
        [
            "ALTER TABLE voice_agent_configs DROP CONSTRAINT voice_agent_configs_v2_complete_check",
            "UPDATE voice_agent_configs SET capabilities = NULL WHERE id = 'cfg_00000002'",
        ],
        "config",
        "cfg_00000002",
        "critical",
    ),
    (
        "foreign_keys",
        [
            REPLICA,
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, status, outcome_code, outcome_source) "
            "VALUES ('call_planted', 'tenant_000001', 'cfg_nowhere', 'completed', 'other', 'inferred')",
        ],
        "call",
        "call_planted",
        "critical",
    ),
    (
        "foreign_keys",
        ["INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled, reason) VALUES ('tenant_gone', true, 't')"],
        "tenant_override",
        "tenant_gone",
        "critical",
    ),
    (
        "v1_v2_consistency",
        [REPLICA, "UPDATE voice_agent_configs SET voice_id = 'voice_other' WHERE id = 'cfg_00000003'"],
        "config",
        "cfg_00000003",
        "critical",
    ),
    ("schema_version", [REPLICA, NEW_CONFIG], "config", "cfg_planted", "high"),
    (
        "metrics_accuracy",
        ["UPDATE voice_agent_metrics SET total_calls = total_calls + 1 WHERE config_id = 'cfg_00000004'"],
        "metrics",
        "cfg_00000004",
        "high",
    ),
    (
        # A call filed after the metrics were computed (live traffic): a snapshot that is behind, not wrong.
        "metrics_accuracy",
        [
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, duration_seconds, "
            "latency_ms, created_at) SELECT 'call_planted', tenant_id, id, 'inbound', 'completed', 42, 300, "
            "now() + interval '1 second' FROM voice_agent_configs WHERE id = 'cfg_00000004'"
        ],
        "metrics",
        "cfg_00000004",
        "low",
    ),
    (
        # A call filed after the snapshot but dated before it cannot be told from a wrong number.
        "metrics_accuracy",
        [
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, duration_seconds, "
            "latency_ms, created_at) SELECT 'call_planted', tenant_id, id, 'inbound', 'completed', 42, 300, "
            "timestamptz '2024-01-01' FROM voice_agent_configs WHERE id = 'cfg_00000004'"
        ],
        "metrics",
        "cfg_00000004",
        "high",
    ),
    (
        "outcome_coverage",
        [
            REPLICA,
            "UPDATE voice_agent_calls SET outcome_code = NULL, outcome_source = NULL WHERE id = 'call_0000000005'",
        ],
        "call",
        "call_0000000005",
        "high",
    ),
    (
        "duplicates",
        [
            "UPDATE voice_agent_configs SET name = (SELECT name FROM voice_agent_configs WHERE id = 'cfg_00000001') "
            "WHERE id = 'cfg_00000004'"
        ],
        "config",
        "cfg_00000004",
        "medium",
    ),
    (
        "value_constraints",
        [
            "ALTER TABLE voice_agent_configs DROP CONSTRAINT voice_agent_configs_voice_config_check",
            "UPDATE voice_agent_configs SET voice_config = voice_config || '{\"speed\": 3}' WHERE id = 'cfg_00000006'",
        ],
        "config",
        "cfg_00000006",
        "medium",
    ),
    (
        "value_constraints",
        [
            "ALTER TABLE voice_agent_v2_flags DROP CONSTRAINT voice_agent_v2_flags_percentage_range",
            "UPDATE voice_agent_v2_flags SET rollout_percentage = 150",
        ],
        "flags",
        None,
        "medium",
    ),
    (
        "empty_special_instructions",
        ["UPDATE voice_agent_configs SET personality = personality - 'special_instructions' WHERE id = 'cfg_00000007'"],
        "config",
        "cfg_00000007",
        "low",
    ),
    (
        "legacy_outcomes",
        [
            "UPDATE voice_agent_calls SET outcome = 'Cita Agendada' WHERE id = (SELECT min(id) FROM voice_agent_calls "
            "WHERE outcome = 'appointment_booked')"
        ],
        "call",
        None,
        "low",
    ),
    ("configs_without_calls", [NEW_CONFIG], "config", "cfg_planted", "low"),
]


@pytest.mark.parametrize(
    ("check", "statements", "entity", "ident", "severity"),
    PLANTED,
    ids=[f"{p[0]}:{p[2]}:{p[4]}:{n}" for n, p in enumerate(PLANTED)],
)
def test_a_planted_violation_fails_its_own_check(
    migrated: Conn, check: str, statements: list[str], entity: str, ident: str | None, severity: str
) -> None:
    plant(migrated, *statements)
    report = validation.run_validation(migrated)
    result = result_of(report, check)
    # Issue #17 point 8: a check is failed exactly when it fails the run (critical/high rows), else a warning.
    assert result.status == ("failed" if severity in validation.BLOCKING_SEVERITIES else "warning")
    rows = [v for v in result.examples if v.entity == entity and (ident is None or v.id == ident)]
    assert [v.severity for v in rows] == [severity], result.examples
    assert report.ok is (severity not in validation.BLOCKING_SEVERITIES)


def test_known_v1_damage_is_reported_low_and_does_not_fail_validation(migrated_messy_url: str) -> None:
    with psycopg.connect(migrated_messy_url) as conn:
        report = validation.run_validation(conn)
        quarantined_calls = conn.execute(
            "SELECT count(DISTINCT entity_id) FROM voice_migration.quarantine WHERE entity = 'call'"
        ).fetchone()
    foreign_keys = result_of(report, "foreign_keys")
    assert foreign_keys.status == "warning" and set(foreign_keys.counts) == {"low"}
    assert quarantined_calls is not None and foreign_keys.counts["low"] >= quarantined_calls[0] > 0
    assert all("known v1 damage" in v.detail for v in foreign_keys.examples)
    assert result_of(report, "schema_version").counts == {"low": result_of(report, "schema_version").violations}
    assert report.ok, [r.check.name for r in report.blocking]


def test_the_same_damage_without_a_quarantine_entry_is_critical(migrated_messy_url: str) -> None:
    with psycopg.connect(migrated_messy_url) as conn:
        plant(conn, "DELETE FROM voice_migration.quarantine WHERE entity = 'call' AND entity_id = 'call_0000000001'")
        report = validation.run_validation(conn, checks=["foreign_keys"])
    rows = [v for v in report.results[0].examples if v.id == "call_0000000001"]
    assert [(v.severity, "new damage" in v.detail) for v in rows] == [("critical", True)]
    assert not report.ok


def test_record_counts_without_a_backup_of_the_scope_is_a_warning_not_a_failure(migrated: Conn) -> None:
    report = validation.run_validation(migrated, checks=["record_counts"], tenant_ids=["tenant_000001"])
    (row,) = report.results[0].examples
    assert (row.severity, row.entity) == ("low", "backup") and "backups create" in row.detail
    assert report.ok and report.warnings == 1


def test_tenant_scope_reports_only_that_tenants_rows(migrated: Conn) -> None:
    plant(
        migrated,
        "UPDATE voice_agent_configs SET personality = personality - 'special_instructions' "
        "WHERE id IN ('cfg_00000001', 'cfg_00000002', 'cfg_00000003')",
    )
    everyone = validation.run_validation(migrated, checks=["empty_special_instructions"])
    one = validation.run_validation(migrated, checks=["empty_special_instructions"], tenant_ids=["tenant_000002"])
    assert everyone.results[0].violations == 3
    assert [(v.id, v.tenant_id) for v in one.results[0].examples] == [("cfg_00000002", "tenant_000002")]


def test_checks_inside_a_callers_transaction_see_its_changes_and_leave_its_settings(migrated: Conn) -> None:
    migrated.execute("SELECT set_config('voice_migration.tenant_ids', 'tenant_000003', true)")
    migrated.execute("UPDATE voice_agent_configs SET personality = personality - 'special_instructions'")
    report = validation.run_validation(migrated, checks=["empty_special_instructions"])
    assert report.results[0].violations == 12  # the tenant_ids argument, not the caller's setting, scopes it
    assert migrated.execute("SELECT current_setting('voice_migration.tenant_ids')").fetchone() == ("tenant_000003",)
    migrated.rollback()


def test_validate_command_exits_1_on_a_critical_failure_and_prints_the_report(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        plant(conn, REPLICA, "UPDATE voice_agent_configs SET prompt = 'changed behind v2' WHERE id = 'cfg_00000001'")
    result = run_cli(["validate"], database_url=migrated_url)
    assert result.returncode == 1
    assert "✗ v1_v2_consistency [critical]: 1 (1 critical)" in result.stdout
    assert result.stderr.startswith("error: validation failed") and result.stderr.count("\n") == 1
    assert "v1_v2_consistency" in result.stderr


def test_validate_command_json_on_clean_data_exits_0(migrated_url: str) -> None:
    result = run_cli(["validate", "--format", "json", "--tenant-ids", "tenant_000001"], database_url=migrated_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["tenant_ids"] == ["tenant_000001"]
    assert document["summary"]["failed"] == 0


@pytest.mark.parametrize("path", sorted((sql_dir() / "validation").glob("*.sql")), ids=lambda p: p.stem)
def test_every_check_file_runs_under_psql_and_agrees_with_the_report(migrated_messy_url: str, path: Path) -> None:
    tenants = ["tenant_000002", "tenant_000003"]
    with psycopg.connect(migrated_messy_url) as conn:
        expected = validation.run_validation(conn, checks=[path.stem], tenant_ids=tenants).results[0].violations
    result = psql_file(migrated_messy_url, path, f"SET voice_migration.tenant_ids = '{','.join(tenants)}'")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == expected


def test_a_fresh_database_at_head_without_a_backup_passes_with_one_warning(head_database_url: str) -> None:
    with psycopg.connect(head_database_url) as conn:
        report = validation.run_validation(conn)
    assert report.ok and report.failed == 0
    assert [(r.check.name, r.status) for r in report.results if r.status != "passed"] == [("record_counts", "warning")]
