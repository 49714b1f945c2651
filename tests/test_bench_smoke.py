"""Smoke tests of the benchmark harness (bench/): it runs end to end on tiny data and writes well-formed results.

Nothing here asserts a timing: the numbers themselves are measured by ``python -m bench`` on purpose-sized
data and recorded in bench/results/. These tests only make sure the harness still works and still
measures what it claims (same result as the honest limit and the batching-overhead contender, the baseline
doing the real transform).
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from bench import load_bench, migration_bench, project, report, row_by_row
from bench.common import percentile
from tests.helpers import Server

TINY = 2_000


@pytest.fixture(scope="module")
def migration_document(pg_server: Server) -> dict[str, object]:
    """One run of every contender on 2,000 calls."""
    options = migration_bench.MigrationBenchOptions(sizes=(TINY,), runs=1, sample=50)
    return migration_bench.run(pg_server.url("postgres"), options)


def test_migration_bench_writes_json_and_markdown_with_every_contender(
    migration_document: dict[str, object], tmp_path: Path
) -> None:
    markdown = report.migration_markdown(migration_document)
    json_path, md_path = report.write(tmp_path, "smoke", migration_document, markdown)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    (size,) = document["sizes"]
    assert (size["calls"], size["configs"], size["tenants"]) == (TINY, TINY // 100, TINY // 1000)
    assert size["project"]["median"]["seconds"] > 0
    assert size["project"]["median"]["peak_rss_mb"] > 0
    assert size["project"]["median"]["wal_bytes"] > 0
    assert size["project"]["runs"][0]["exit_code"] == 0
    assert {"backup", "transform configs", "infer outcomes", "metrics", "verify"} <= set(
        size["project"]["median"]["steps"]
    )
    assert size["limit"]["median"]["seconds"] > 0
    assert size["batching_overhead"]["median"]["seconds"] > 0
    assert size["row_by_row"]["median"]["rows"] == 50
    assert size["ratios"]["project_over_limit"] > 0
    assert size["ratios"]["project_over_batching_overhead"] > 0
    assert size["ratios"]["project_over_row_by_row"] > 0
    assert document["server_settings"]["fsync"] in {"on", "off"}
    table = md_path.read_text(encoding="utf-8")
    assert f"| {TINY:,} | project (`migrate --yes`) |" in table
    assert f"| {TINY:,} | honest limit (hand-written SQL, no project function) |" in table
    assert f"| {TINY:,} | batching overhead (one statement per table over the project's functions) |" in table


def test_honest_limit_produces_the_same_v2_data_as_migrate(migration_document: dict[str, object]) -> None:
    """The hand-written limit (no project function) and migrate agree on every v2 column and metric."""
    (size,) = migration_document["sizes"]  # type: ignore[misc]
    assert size["same_result_as_limit"] is True
    assert size["project"]["runs"][0]["checksum"] == size["limit"]["runs"][0]["checksum"]


def test_batching_overhead_contender_produces_the_same_v2_data_as_migrate(
    migration_document: dict[str, object],
) -> None:
    (size,) = migration_document["sizes"]  # type: ignore[misc]
    assert size["same_result"] is True
    assert size["project"]["runs"][0]["checksum"] == size["batching_overhead"]["runs"][0]["checksum"]


def test_row_by_row_baseline_computes_what_the_sql_transform_computes(migration_document: dict[str, object]) -> None:
    (size,) = migration_document["sizes"]  # type: ignore[misc]
    assert size["row_by_row"]["median"]["agreement"] == 1.0


def test_python_folding_of_the_baseline_matches_the_sql_normalisers(head_database_url: str) -> None:
    texts = ["Cita Agendada", "  NO-ANSWER ", "¡Llámame más tarde!", "appointment_booked", "", "Ünïcödé 42"]
    with psycopg.connect(head_database_url) as conn:
        rows = conn.execute(
            "SELECT voice_migration.fold_text(t), voice_migration.normalize_key(t) FROM unnest(%s::text[]) AS t",
            (texts,),
        ).fetchall()
    assert [(row_by_row.fold_text(t), row_by_row.normalize_key(t)) for t in texts] == [tuple(r) for r in rows]


def test_step_seconds_reads_each_finished_step_from_the_json_log() -> None:
    log = "\n".join(
        [
            "Migration of x (all tenants)",
            json.dumps({"ts": "2026-01-01T00:00:00.000+00:00", "phase": "backup", "total": None}),
            json.dumps({"ts": "2026-01-01T00:00:01.500+00:00", "phase": "backup", "seconds": 1.5}),
            json.dumps({"ts": "2026-01-01T00:00:02.000+00:00", "phase": "metrics", "seconds": 0.25}),
        ]
    )
    assert project.step_seconds(log) == {"backup": 1.5, "metrics": 0.25}
    intervals = load_bench.step_intervals(log)
    assert [i["step"] for i in intervals] == ["backup", "metrics"]
    assert float(intervals[0]["end"]) - float(intervals[0]["start"]) == pytest.approx(1.5)


def test_percentile_uses_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([], 0.5)) == (50.0, 99.0, 0.0)


def test_load_bench_reports_each_window_and_no_failed_write(pg_server: Server, tmp_path: Path) -> None:
    options = load_bench.LoadBenchOptions(calls=TINY, rate=40, before=1.5, max_seconds=60)
    document = load_bench.run(pg_server.url("postgres"), options)
    markdown = report.load_markdown(document)
    report.write(tmp_path, "load", document, markdown)
    windows = document["windows"]
    # Not its exit code: verification may flag metrics made stale by the load's own inserts (docs/benchmarks.md).
    assert {"backup", "infer outcomes", "metrics", "verify"} <= {s["step"] for s in document["migrate"]["steps"]}  # type: ignore[index]
    assert document["load_covered_migration"] is True
    assert windows["before"]["writes"] > 0 and windows["during"]["writes"] > 0  # type: ignore[index]
    assert [w["errors"] for w in windows.values()] == [0, 0, 0]  # type: ignore[attr-defined]
    assert "| during the migration |" in markdown
