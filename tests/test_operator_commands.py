"""``status``, ``rollout check`` and ``--format json`` everywhere (issue #17 point 7).

Every JSON document is checked against its schema in docs/schemas/ (the subset of JSON Schema that
``tests.helpers.schema_errors`` understands), and every number against the database it describes.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import psycopg
import pytest
from click.testing import CliRunner

from tests.conftest import add_calls, add_tenants
from tests.helpers import database_checksum, run_cli, schema_errors
from voice_migration.cli import main
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.migration import revisions

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def schema(name: str) -> dict[str, object]:
    """The JSON schema ``docs/schemas/<name>.schema.json``."""
    loaded: dict[str, object] = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return loaded


def json_of(args: list[str], url: str, *, code: int = 0, name: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    """Run a command with ``--format json``, check its exit code and that its output keeps schema ``name``."""
    result = run_cli([*args, "--format", "json"], database_url=url, env=env)
    assert result.returncode == code, (result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert schema_errors(document, schema(name)) == []
    return document  # type: ignore[no-any-return]


def one(conn: psycopg.Connection[tuple[object, ...]], query: str) -> object:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


# --- status ---------------------------------------------------------------------------------------------


def test_status_of_a_migrated_database_answers_every_part_from_the_database(migrated_messy_url: str) -> None:
    with psycopg.connect(migrated_messy_url) as conn:
        before = database_checksum(conn)
    document = json_of(["status"], migrated_messy_url, name="status")
    with psycopg.connect(migrated_messy_url) as conn:
        assert database_checksum(conn) == before, "status changes nothing"
        configs = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE schema_version = 'v2') FROM voice_agent_configs"
        ).fetchone()
        calls = one(conn, "SELECT count(*) FROM voice_agent_calls")
        quarantine = conn.execute(
            "SELECT entity, reason, count(*) FROM voice_migration.quarantine GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        newest = one(conn, "SELECT backup_id FROM voice_migration.backups ORDER BY created_at DESC LIMIT 1")
        held_table = one(conn, "SELECT to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL")
        held = one(conn, "SELECT count(*) FROM public.voice_agent_v2_held_tenants") if held_table else None

    assert document["revision"] == {
        "current": revisions.head_revision(),
        "head": revisions.head_revision(),
        "state": "head",
        "pending": [],
    }
    phases = {p["phase"]: p for p in document["phases"]}
    assert list(phases) == ["configs", "calls", "metrics"]
    assert (phases["configs"]["total"], phases["configs"]["done"]) == configs
    assert 0 < phases["configs"]["kept_in_v1"] == phases["configs"]["total"] - phases["configs"]["done"]
    assert phases["calls"]["total"] == phases["calls"]["done"] == calls
    assert all(
        p["passes"] and p["passes"][0]["scope"] == "*" and p["passes"][0]["finished_at"] for p in phases.values()
    )
    assert sorted((q["entity"], q["reason"], q["count"]) for q in document["quarantine"]) == sorted(quarantine)
    assert document["rollout"]["percentage"] == 0 and document["rollout"]["enabled"] is False
    assert document["latest_backup"]["backup_id"] == newest and document["backups"] >= 1
    # The held-tenant set lands with revision 0008 (issue #15): shown exactly when the table exists.
    assert (document["held_tenants"] is None) is (not held_table)
    if held_table:
        assert document["held_tenants"]["tenants"] == held

    text = run_cli(["status"], database_url=migrated_messy_url)
    assert text.returncode == 0, text.stderr
    assert f"Revision: {revisions.head_revision()} (head)" in text.stdout
    assert f"configs  {configs[1]:,} / {configs[0]:,} configs in v2 shape" in text.stdout  # type: ignore[index]
    assert f"Latest backup: {newest} (" in text.stdout
    for entity, reason, count in quarantine:
        assert f"  {entity} {reason}: {count:,}" in text.stdout


def test_status_of_a_v1_database_shows_what_is_not_there_yet(v1_database_url: str) -> None:
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=8, calls=20))
    document = json_of(["status"], v1_database_url, name="status")
    assert document["revision"]["current"] == revisions.BASELINE_REVISION
    assert document["revision"]["state"] == "behind"
    assert document["revision"]["pending"][-1] == revisions.head_revision()
    assert (document["phases"], document["quarantine"], document["rollout"], document["held_tenants"]) == (
        None,
        None,
        None,
        None,
    )
    assert document["latest_backup"] is None
    text = run_cli(["status"], database_url=v1_database_url)
    assert text.returncode == 0, text.stderr
    assert "behind head: `voice-migration migrate`" in text.stdout
    assert "Rollout: no flag tables yet" in text.stdout


def test_status_of_an_empty_database_says_to_adopt_it(database_url: str) -> None:
    document = json_of(["status"], database_url, name="status")
    assert (document["revision"]["current"], document["revision"]["state"]) == (None, "none")


# --- rollout check ---------------------------------------------------------------------------------------

FAST_PLAN = ["--plan", "5:0s,10:0s,100", "--min-calls", "50"]


def _flags(url: str) -> tuple[object, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT enabled, rollout_percentage, updated_at, (SELECT count(*) FROM voice_agent_v2_flag_audit) "
            "FROM voice_agent_v2_flags"
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_rollout_check_agrees_with_advance_and_changes_nothing(head_database_url: str) -> None:
    url = head_database_url
    with psycopg.connect(url, autocommit=True) as conn:
        add_tenants(conn, 20)

    before = _flags(url)
    start = json_of(["rollout", "check", *FAST_PLAN], url, name="rollout-advance")
    assert (start["allowed"], start["from_percentage"], start["to_percentage"], start["checks"]) == (True, 0, 5, [])
    assert _flags(url) == before, "a check changes no flag and writes no audit row"

    advanced = json_of(["rollout", "advance", "--by", "ann", *FAST_PLAN], url, name="rollout-advance")
    assert advanced["advanced"] is True and advanced["change"]["new"] == {"enabled": True, "percentage": 5}

    # At 5 % with no calls: the gate fails, check says so with exit 1, and advance refuses the same way.
    refused = json_of(["rollout", "check", *FAST_PLAN], url, code=1, name="rollout-advance")
    assert refused["allowed"] is False
    assert {c["name"] for c in refused["checks"] if not c["passed"]} >= {"enough calls"}
    text = run_cli(["rollout", "check", *FAST_PLAN], database_url=url)
    assert text.returncode == 1
    assert "Advance allowed: no" in text.stdout
    assert text.stderr.startswith("error: rollout check: advancing is not allowed now") and text.stderr.count("\n") == 1
    assert run_cli(["rollout", "advance", "--by", "ann", *FAST_PLAN], database_url=url).returncode == 1

    with psycopg.connect(url, autocommit=True) as conn:
        add_calls(conn, "v1", 200, failed=4)
        add_calls(conn, "v2", 100, failed=2)
    before = _flags(url)
    healthy = json_of(["rollout", "check", *FAST_PLAN], url, name="rollout-advance")
    assert (healthy["allowed"], healthy["to_percentage"], healthy["change"]) == (True, 10, None)
    assert all(c["passed"] for c in healthy["checks"])
    assert _flags(url) == before
    assert run_cli(["rollout", "advance", "--by", "ann", *FAST_PLAN], database_url=url).returncode == 0
    assert _flags(url)[1] == 10

    # The gate's settings come from the same environment variables as advance's (click envvars).
    strict = json_of(
        ["rollout", "check", "--plan", "5:0s,10:0s,100"],
        url,
        code=1,
        name="rollout-advance",
        env={"VOICE_MIGRATION_HEALTH_MIN_CALLS": "1000"},
    )
    assert [c["name"] for c in strict["checks"] if not c["passed"]] == ["enough calls"]

    assert run_cli(["rollout", "set-percentage", "100", "--by", "ann"], database_url=url).returncode == 0
    last = json_of(["rollout", "check", *FAST_PLAN], url, code=1, name="rollout-advance")
    assert (last["allowed"], last["to_percentage"], last["refusal"]) == (False, None, None)
    assert "the last step of the plan" in last["verdict"]


# --- --format json on the other reporting commands ---------------------------------------------------


def test_migrate_prints_its_summary_as_json(v1_database_url: str) -> None:
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=16, calls=100, messy=True))
    dry = json_of(["migrate", "--dry-run"], v1_database_url, name="migrate-summary")
    assert dry["dry_run"] is True and dry["backup_id"] is None
    real = json_of(["migrate", "--yes"], v1_database_url, name="migrate-summary")
    with psycopg.connect(v1_database_url) as conn:
        backup = one(conn, "SELECT backup_id FROM voice_migration.backups WHERE kind = 'migrate'")
        quarantined = one(conn, "SELECT count(*) FROM voice_migration.quarantine")
    assert (real["ok"], real["dry_run"], real["backup_id"]) == (True, False, backup)
    assert real["revision"]["before"] == revisions.BASELINE_REVISION
    assert real["revision"]["after"] == revisions.head_revision()
    assert real["quarantined"] == quarantined == sum(q["count"] for q in real["quarantine"])
    assert real["verification"] == {"ok": True, "failed": []}
    assert [s["name"] for s in real["steps"]][:2] == ["validate v1", "backup"]


def test_backups_list_and_every_rollback_level_print_json(migrated_url: str) -> None:
    url = migrated_url
    listed = json_of(["backups", "list"], url, name="backups-list")
    again = json_of(["rollback", "--list-backups"], url, name="backups-list")
    assert [{**b, "age_seconds": 0} for b in again["backups"]] == [{**b, "age_seconds": 0} for b in listed["backups"]]
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT backup_id FROM voice_migration.backups ORDER BY created_at DESC")]
    assert [b["backup_id"] for b in listed["backups"]] == ids

    assert run_cli(["rollout", "set-percentage", "50", "--by", "ann"], database_url=url).returncode == 0
    rollback_schema = schema("rollback")
    definitions: dict[str, dict[str, object]] = rollback_schema["$defs"]  # type: ignore[assignment]
    tenant = json_of(
        ["rollback", "--level", "tenant", "--tenant-id", "tenant_000001", "--by", "bob"], url, name="rollback"
    )
    assert schema_errors(tenant["change"], definitions["override_change"]) == []
    assert (tenant["level"], tenant["change"]["new"], tenant["restore"]) == ("tenant", False, None)
    partial = json_of(
        ["rollback", "--level", "partial", "--target-percentage", "10", "--by", "bob"], url, name="rollback"
    )
    assert schema_errors(partial["change"], definitions["flag_change"]) == []
    assert (partial["change"]["old"]["percentage"], partial["change"]["new"]["percentage"]) == (50, 10)
    total = json_of(["rollback", "--level", "total", "--reason", "test", "--by", "bob"], url, name="rollback")
    assert schema_errors(total["change"], definitions["flag_change"]) == []
    assert total["change"]["new"] == {"enabled": False, "percentage": 10}

    restored = run_cli(
        ["rollback", "--level", "data", "--backup-id", ids[0], "--yes", "--format", "json"], database_url=url
    )
    assert restored.returncode == 0, restored.stderr
    document = json.loads(restored.stdout)
    assert schema_errors(document, rollback_schema) == []
    assert document["restore"]["backup_id"] == ids[0] and document["restore"]["safety_backup_id"].startswith("backup_")
    assert "A safety backup of the current state" in restored.stderr, "the plan is for the person, on stderr"


# --- option names and environment variables ------------------------------------------------------------


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_the_actor_option_is_called_by_everywhere() -> None:
    actors = {"by", "operator", "actor", "who", "changed_by", "updated_by", "user", "advanced_by", "rolled_back_by"}
    for name, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option) and (param.name in actors or param.envvar == "VOICE_MIGRATION_OPERATOR"):
                assert param.opts == ["--by"], f"{name}: {param.opts}"


@pytest.mark.parametrize(("name", "command"), _commands(main), ids=lambda c: c if isinstance(c, str) else "")
def test_every_environment_variable_of_an_option_is_shown_in_help(name: str, command: click.Command) -> None:
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            assert param.show_envvar, f"{name} {param.opts}: envvar {param.envvar} is not shown in --help"
        if isinstance(param, click.Option) and param.name == "database_url":
            assert param.envvar == "DATABASE_URL", name
    result = CliRunner().invoke(main, [*name.split(), "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    if any(isinstance(p, click.Option) and p.name == "database_url" for p in command.params):
        assert "env var: DATABASE_URL" in " ".join(result.output.split())


def test_flag_changes_print_json(head_database_url: str) -> None:
    url = head_database_url
    with psycopg.connect(url, autocommit=True) as conn:
        add_tenants(conn, 3)
    definitions: dict[str, dict[str, object]] = schema("flag-change")["$defs"]  # type: ignore[assignment]
    raised = json_of(["rollout", "set-percentage", "25", "--by", "ann", "--reason", "day 3"], url, name="flag-change")
    assert schema_errors(raised["change"], definitions["flag_change"]) == []
    assert (raised["command"], raised["change"]["new"], raised["change"]["reason"]) == (
        "set-percentage",
        {"enabled": True, "percentage": 25},
        "day 3",
    )
    for command, new in (("enable-tenant", True), ("disable-tenant", False), ("clear-tenant", None)):
        document = json_of(["rollout", command, "tenant-1", "--by", "ann"], url, name="flag-change")
        assert schema_errors(document["change"], definitions["override_change"]) == []
        assert (document["command"], document["change"]["tenant_id"], document["change"]["new"]) == (
            command,
            "tenant-1",
            new,
        )
