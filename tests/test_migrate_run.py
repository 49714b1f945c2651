"""`migrate` end to end: dry run, v1 -> head in one command, tenant scope, resume, Ctrl-C, notifications."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import settings_for
from tests.helpers import database_checksum, run_cli, table_checksum, v1_checksums
from tests.test_backup_restore import run_in_tty
from tests.test_notify_channels import Inbox, webhook  # noqa: F401 - the fixture
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.migration import revisions
from voice_migration.migration.backup import list_backups

SPEC = SeedSpec(tenants=3, configs=64, calls=300, messy=True)
# Columns whose value is the time of the run: equal data, different clock.
RUN_TIMESTAMPS = {"voice_agent_configs": ("migrated_at",), "voice_agent_metrics": ("computed_at",)}


def seed(url: str, spec: SeedSpec = SPEC) -> str:
    with psycopg.connect(url) as conn:
        seed_v1(conn, spec)
    return url


@pytest.fixture()
def seeded_url(v1_database_url: str) -> str:
    """A small, messy v1 database at the baseline revision."""
    return seed(v1_database_url)


@pytest.fixture()
def reference_url(database_url: str) -> Iterator[str]:
    """A second database with the same v1 data, for comparing end states."""
    revisions.upgrade(settings_for(database_url), revisions.BASELINE_REVISION)
    yield seed(database_url)


def checksum(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return database_checksum(conn)


def data_state(url: str) -> dict[str, str]:
    """Checksums of the migrated data, leaving out run timestamps and bookkeeping (backups, progress)."""
    with psycopg.connect(url) as conn:
        state = {}
        for table in ("voice_agent_configs", "voice_agent_calls", "voice_agent_metrics"):
            columns = [
                str(r[0])
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = %s ORDER BY ordinal_position",
                    (table,),
                ).fetchall()
                if r[0] not in RUN_TIMESTAMPS.get(table, ())
            ]
            state[table] = (
                table_checksum(conn, table, columns)
                if table != "voice_agent_metrics"
                else str(
                    conn.execute(
                        "SELECT md5(string_agg(row(tenant_id, config_id, total_calls, outcome_counts)::text, ',' "
                        "ORDER BY config_id)) FROM voice_agent_metrics"
                    ).fetchone()
                )
            )
        state["quarantine"] = str(
            conn.execute(
                "SELECT md5(string_agg(row(entity, entity_id, reason, detail)::text, ',' ORDER BY entity, entity_id, "
                "reason)) FROM voice_migration.quarantine"
            ).fetchone()
        )
        return state


def count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


def would_change(stdout: str) -> dict[str, int]:
    match = re.search(r"configs to migrate ([\d,]+), calls to update ([\d,]+), metrics to generate ([\d,]+)", stdout)
    assert match, stdout
    return dict(zip(("configs", "calls", "metrics"), (int(g.replace(",", "")) for g in match.groups()), strict=True))


def test_a_dry_run_leaves_the_database_byte_identical_and_predicts_the_real_run(seeded_url: str) -> None:
    before = checksum(seeded_url)
    dry = run_cli(["migrate", "--dry-run", "--verbose", "--batch-size", "16"], database_url=seeded_url)
    assert dry.returncode == 0, dry.stderr
    assert checksum(seeded_url) == before
    predicted = would_change(dry.stdout)
    assert "would be quarantined" in dry.stdout and "missing_voice_id" in dry.stdout
    assert "v1 data-quality findings" in dry.stdout
    assert "before (v1)" in dry.stdout and "after  (v2)" in dry.stdout

    real = run_cli(["migrate", "--yes", "--batch-size", "16"], database_url=seeded_url)
    assert real.returncode in (0, 1), real.stderr
    assert predicted["configs"] == count(
        seeded_url, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'"
    )
    assert predicted["metrics"] == count(seeded_url, "SELECT count(*) FROM voice_agent_metrics")


def test_one_command_takes_a_v1_database_to_head_after_a_backup(seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        v1_before = v1_checksums(conn)
    result = run_cli(["migrate", "--yes"], database_url=seeded_url)
    assert "Traceback" not in result.stderr
    with psycopg.connect(seeded_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
        backups = list_backups(conn)
        assert v1_checksums(conn) == v1_before, "the migration never modifies a v1 column"
    assert [b.kind for b in backups] == ["migrate"]
    assert backups[0].alembic_revision == revisions.BASELINE_REVISION, "the backup is taken before the revisions"
    assert f"backup id: {backups[0].backup_id}" in result.stdout
    assert count(seeded_url, "SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL") == 0
    unmigrated = count(seeded_url, "SELECT count(*) FROM voice_agent_configs WHERE schema_version IS NULL")
    quarantined = count(
        seeded_url, "SELECT count(DISTINCT entity_id) FROM voice_migration.quarantine WHERE entity = 'config'"
    )
    assert unmigrated == quarantined > 0


def test_tenant_scoping_touches_only_those_tenants(seeded_url: str) -> None:
    revisions.upgrade(settings_for(seeded_url), "0003_v2_expand")  # v2 columns exist, nothing is backfilled
    result = run_cli(["migrate", "--yes", "--tenant-ids", "tenant_000002"], database_url=seeded_url)
    assert result.returncode in (0, 1), result.stderr
    outside = "tenant_id IS DISTINCT FROM 'tenant_000002'"
    assert (
        count(seeded_url, f"SELECT count(*) FROM voice_agent_configs WHERE {outside} AND schema_version IS NOT NULL")
        == 0
    )
    assert (
        count(seeded_url, f"SELECT count(*) FROM voice_agent_calls WHERE {outside} AND outcome_code IS NOT NULL") == 0
    )
    assert count(seeded_url, "SELECT count(*) FROM voice_agent_configs WHERE tenant_id = 'tenant_000002' "
                             "AND schema_version = 'v2'") > 0  # fmt: skip
    with psycopg.connect(seeded_url) as conn:
        assert list_backups(conn)[0].tenant_ids == ("tenant_000002",)


def start_migrate(url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_MIGRATION_")}
    env["DATABASE_URL"] = url
    return subprocess.Popen(
        [sys.executable, "-m", "voice_migration", "migrate", "--yes", "--log-format", "json", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def wait_for_batches(process: subprocess.Popen[str], phase: str, batches: int) -> None:
    """Read JSON log lines until ``batches`` progress lines of ``phase`` went by."""
    assert process.stderr is not None
    seen = 0
    for line in process.stderr:
        record = json.loads(line)
        if record.get("phase") == phase and "done" in record:
            seen += 1
            if seen >= batches:
                return
    raise AssertionError(f"migrate ended before {batches} batches of {phase}")


BIG = SeedSpec(tenants=3, configs=64, calls=3000, messy=True)


def test_a_run_killed_with_sigkill_resumes_to_the_same_end_state(v1_database_url: str, reference_url: str) -> None:
    url = seed(v1_database_url, BIG)
    with psycopg.connect(reference_url, autocommit=True) as conn:
        conn.execute("TRUNCATE tenants, voice_agent_configs, voice_agent_calls")
    seed(reference_url, BIG)
    assert run_cli(["migrate", "--yes"], database_url=reference_url).returncode in (0, 1)

    process = start_migrate(url, "--batch-size", "50")
    wait_for_batches(process, "infer outcomes", 3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    half = count(url, "SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NOT NULL")
    assert 0 < half < BIG.calls, "killed in the middle of the calls phase"

    resumed = run_cli(["migrate", "--yes", "--batch-size", "50"], database_url=url)
    assert "Traceback" not in resumed.stderr, resumed.stderr
    assert data_state(url) == data_state(reference_url)


def test_ctrl_c_stops_after_the_current_batch_and_says_how_to_resume(seeded_url: str) -> None:
    process = start_migrate(seeded_url, "--batch-size", "5")
    wait_for_batches(process, "infer outcomes", 2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "stopped by the operator" in stdout
    assert stderr.strip().splitlines()[-1].startswith("error: migrate was stopped by the operator")
    assert "run the same command again to resume" in stderr
    done = count(seeded_url, "SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NOT NULL")
    assert 0 < done < SPEC.calls
    again = run_cli(["migrate", "--yes", "--batch-size", "5"], database_url=seeded_url)
    assert "Traceback" not in again.stderr
    assert count(seeded_url, "SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL") == 0


def test_json_logs_are_one_object_per_line(seeded_url: str) -> None:
    result = run_cli(["migrate", "--yes", "--log-format", "json", "--verbose"], database_url=seeded_url)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("error: ")]
    phases = {json.loads(line).get("phase") for line in lines if line.startswith("{")}
    assert lines and all(line.startswith("{") for line in lines), lines
    assert {"validate v1", "backup", "revisions", "transform configs", "infer outcomes", "metrics", "verify"} <= phases


def test_the_end_of_a_migration_is_posted_to_the_webhook(seeded_url: str, webhook: tuple[str, Inbox]) -> None:  # noqa: F811
    url, inbox = webhook
    result = run_cli(["migrate", "--yes"], database_url=seeded_url, env={"SLACK_WEBHOOK_URL": url})
    assert "Traceback" not in result.stderr
    assert inbox.done.wait(5)
    text = json.loads(inbox.items[0])["text"]
    assert "migration_completed" in text
    with psycopg.connect(seeded_url) as conn:
        assert list_backups(conn)[0].backup_id in text


def test_a_dry_run_sends_no_notification(seeded_url: str, webhook: tuple[str, Inbox]) -> None:  # noqa: F811
    url, inbox = webhook
    assert run_cli(["migrate", "--dry-run"], database_url=seeded_url, env={"SLACK_WEBHOOK_URL": url}).returncode == 0
    time.sleep(0.5)
    assert inbox.items == []


def test_on_a_terminal_migrate_asks_first_then_draws_progress_bars(seeded_url: str) -> None:
    before = checksum(seeded_url)
    code, output = run_in_tty(["-m", "voice_migration", "migrate"], "n", database_url=seeded_url)
    assert code == 1 and "Proceed to migrate all tenants to v2?" in output and "cancelled" in output
    assert checksum(seeded_url) == before
    code, output = run_in_tty(["-m", "voice_migration", "migrate"], "y", database_url=seeded_url)
    assert code == 0, output
    assert output.index("Proceed to migrate") < output.index("━"), "the bars start after the answer"
    assert "infer outcomes" in output and "rows/s" in output and "Migration summary" in output
