"""``voice-migration rollout`` and ``rollback`` as an operator runs them: output, one-line errors, exit codes."""

from __future__ import annotations

import json

import psycopg
from click.testing import CliRunner

from tests.conftest import add_calls, add_tenants
from tests.helpers import run_cli
from voice_migration.cli import main


def test_an_operator_rolls_out_and_back_with_the_cli(head_database_url: str) -> None:
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        add_tenants(conn, 20)
    url = head_database_url

    started = run_cli(["rollout", "advance", "--by", "ann@example.com"], database_url=url)
    assert started.returncode == 0, started.stderr
    assert "0 %, master switch off -> 5 %, master switch on" in started.stdout

    raised = run_cli(
        ["rollout", "set-percentage", "50", "--by", "ann@example.com", "--reason", "day 5"], database_url=url
    )
    assert raised.returncode == 0, raised.stderr
    assert run_cli(["rollout", "enable-tenant", "tenant-3", "--by", "ann"], database_url=url).returncode == 0

    partial = run_cli(["rollback", "--level", "partial", "--target-percentage", "10", "--by", "bob"], database_url=url)
    assert partial.returncode == 0, partial.stderr
    assert "50 %, master switch on -> 10 %, master switch on (rollback_partial by bob)" in partial.stdout

    total = run_cli(
        ["rollback", "--level", "total", "--reason", "webhook bug"],
        database_url=url,
        env={"VOICE_MIGRATION_OPERATOR": "carol"},
    )
    assert total.returncode == 0, total.stderr

    status = run_cli(["rollout", "status", "--format", "json"], database_url=url)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert (shown["enabled"], shown["percentage"], shown["tenants_in_v2"], shown["total_tenants"]) == (False, 10, 0, 20)
    assert shown["overrides"] == {"enabled": 1, "disabled": 0}

    history = run_cli(["rollout", "history", "--limit", "3"], database_url=url)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert len(lines) == 3
    assert "rollback_total (global) by carol: 10 % on -> 10 % off - webhook bug" in lines[0]
    assert "rollback_partial" in lines[1] and "enable_tenant (tenant tenant-3) by ann" in lines[2]


def test_mistakes_get_one_line_and_the_documented_exit_code(head_database_url: str) -> None:
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        add_tenants(conn, 2)
    url = head_database_url
    assert run_cli(["rollout", "set-percentage", "30", "--by", "ann"], database_url=url).returncode == 0
    cases = [
        (["rollback", "--level", "tenant", "--tenant-id", "nope"], 1, "tenant 'nope' does not exist"),
        (["rollback", "--level", "partial", "--target-percentage", "40"], 1, "not lower than the current 30 %"),
        (["rollback", "--level", "total"], 2, "a total rollback needs a reason"),
        (["rollback", "--level", "total", "--tenant-id", "tenant-1", "--reason", "x"], 2, "does not take --tenant-id"),
        (["rollback", "--level", "tenant"], 2, "needs --tenant-id"),
        (["rollback", "--level", "data"], 2, "needs --backup-id"),
        (["rollback"], 2, "--level tenant|partial|total|data"),
        (["rollout", "set-percentage", "30"], 2, "--by"),
        (["rollout", "advance", "--by", "ann", "--plan", "50,10"], 2, "steps must rise strictly"),
    ]
    runner = CliRunner()  # in process: ten subprocesses would spend most of their time importing
    for args, code, text in cases:
        result = runner.invoke(main, args, env={"DATABASE_URL": url, "VOICE_MIGRATION_OPERATOR": None})
        assert result.exit_code == code, (args, result.output)
        assert text in result.stderr, (args, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit)
    out_of_range = run_cli(["rollout", "set-percentage", "150", "--by", "ann"], database_url=url)
    assert out_of_range.returncode == 2 and "0<=x<=100" in out_of_range.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchone() == (True, 30)


def test_a_refused_advance_prints_the_evidence_and_exits_1(head_database_url: str) -> None:
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        add_tenants(conn, 1)
        add_calls(conn, "v1", 200, failed=2, latency_ms=400)
        add_calls(conn, "v2", 200, failed=40, latency_ms=410)
    url = head_database_url
    assert run_cli(["rollout", "set-percentage", "25", "--by", "ann"], database_url=url).returncode == 0
    refused = run_cli(
        ["rollout", "advance", "--by", "ann", "--plan", "25:0s,50:0s,100", "--min-calls", "100"], database_url=url
    )
    assert refused.returncode == 1
    assert "[ok] hold time" in refused.stdout
    assert "[FAILED] error rate: v2 20.00 % vs v1 1.00 % (allowed up to 2.00 %" in refused.stdout
    assert "[ok] p95 latency" in refused.stdout
    assert refused.stderr.startswith("error: not advancing from 25 % to 50 %") and refused.stderr.count("\n") == 1
    lenient = run_cli(
        ["rollout", "advance", "--by", "ann", "--plan", "25:0s,50:0s,100"],
        database_url=url,
        env={"VOICE_MIGRATION_HEALTH_MAX_ERROR_RATE_INCREASE": "25"},
    )
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert "25 %, master switch on -> 50 %, master switch on (advance by ann)" in lenient.stdout


def test_rollback_lists_backups_through_the_backup_module(head_database_url: str) -> None:
    listed = run_cli(["rollback", "--list-backups"], database_url=head_database_url)
    assert listed.returncode == 0, listed.stderr
    assert "Available Backups" in listed.stdout
