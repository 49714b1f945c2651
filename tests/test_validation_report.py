"""The validation reports: the JSON keeps the documented schema, the text reads like the runbook's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, schema_errors
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.migration import validation

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "validation-report.schema.json"


@pytest.fixture()
def messy_v1(v1_database_url: str) -> Iterator[str]:
    """URL of a v1 database seeded with every messy case (2 tenants, 64 configs, 100 calls)."""
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=64, calls=100, messy=True))
    yield v1_database_url


def test_the_json_report_matches_the_documented_schema(messy_v1: str) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    with psycopg.connect(messy_v1) as conn:
        report = validation.run_preflight(conn, ["tenant_000001"])
    document = json.loads(validation.render_json(report))
    assert schema_errors(document, schema) == []
    assert document["schema_version"] == validation.SCHEMA_VERSION == schema["properties"]["schema_version"]["const"]
    assert document["tenant_ids"] == ["tenant_000001"] and document["fixes"] is None
    assert document["summary"]["total"] == len(document["checks"]) == len(report.results)


def test_the_schema_checker_rejects_an_undocumented_key(messy_v1: str) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    with psycopg.connect(messy_v1) as conn:
        document = validation.report_dict(validation.run_preflight(conn))
    document["checks"][0]["surprise"] = 1  # type: ignore[index]
    document["summary"] = {"total": "3"}
    assert schema_errors(document, schema) == [
        "$.summary: missing passed",
        "$.summary: missing failed",
        "$.summary: missing warnings",
        "$.summary: missing blocking",
        "$.summary.total: '3' is not integer",
        "$.checks[0]: undocumented key surprise",
    ]


def test_json_counts_are_complete_while_examples_are_capped(messy_v1: str) -> None:
    with psycopg.connect(messy_v1) as conn:
        (orphans,) = validation.report_dict(validation.run_preflight(conn, checks=["orphans"]))["checks"]  # type: ignore[misc]
        total = conn.execute(
            "SELECT count(*) FROM voice_agent_calls WHERE id LIKE 'call_%' AND config_id LIKE 'cfg_missing_%'"
        ).fetchone()
    assert total is not None
    assert orphans["violations"] == sum(orphans["by_severity"].values()) > total[0] >= 2
    assert len(orphans["examples"]) == validation.EXAMPLES_PER_SEVERITY


def test_the_text_report_shows_totals_then_each_failure_with_examples_and_the_rest_counted(messy_v1: str) -> None:
    result = run_cli(["validate", "--preflight", "--check", "orphans", "--check", "nulls"], database_url=messy_v1)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        "Pre-flight of all tenants",
        "=========================",
        "Total checks: 2",
        "Passed: 0",
        "Failed: 0",  # issue #17 point 8: medium findings are warnings (exit 0), no longer "failed"
        "Warnings: 2",
    ]
    assert any(line.startswith("! orphans [medium]: ") for line in lines)
    assert any(line.strip().startswith("... and ") and line.strip().endswith(" more") for line in lines)
    assert lines[-1] == "✓ Pre-flight of all tenants: no critical or high check failed."
