"""Restore and flags agree (issue #15 point 2): a data restore never hands v2 configs it cannot read.

A backup taken before the migration holds configs in v1 shape. Restoring it while v2 serves their
tenants is refused with one line; ``--with-total-rollback`` turns v2 off first (audited, notified, with
the restore's reason); every restore reports the tenants v2 was serving; ``--delete-newer`` removes the
rows created after the backup, after copying them into the safety backup.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers import run_cli
from tests.test_notify_channels import Inbox, webhook  # noqa: F401 (the fixture)
from voice_migration import flags
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.errors import OperationRefused
from voice_migration.migration.backup import create_backup, list_backups
from voice_migration.migration.restore import plan_restore, restore_backup

Conn = psycopg.Connection[tuple[object, ...]]
TENANTS = ("tenant_000001", "tenant_000002", "tenant_000003")


@pytest.fixture()
def migrated(v1_database_url: str) -> Iterator[tuple[str, str]]:
    """A clean v1 database backed up (the v1-shape backup), then migrated to head: (url, backup id)."""
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=30, calls=60, messy=False))
        v1_backup = create_backup(conn).backup_id
    result = run_cli(["migrate", "--yes"], database_url=v1_database_url)
    assert result.returncode == 0, result.stderr
    yield v1_database_url, v1_backup


def scalar(conn: Conn, query: str) -> object:
    row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return row[0]


def test_a_v1_backup_is_refused_while_v2_serves_its_tenants(migrated: tuple[str, str]) -> None:
    url, v1_backup = migrated
    with psycopg.connect(url, autocommit=True) as conn:
        flags.update_rollout_percentage(conn, 100, "ann")
        assert scalar(conn, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'") == 30
        backups_before = len(list_backups(conn))
        audit_before = scalar(conn, "SELECT max(id) FROM voice_agent_v2_flag_audit")

        result = run_cli(["rollback", "--level", "data", "--backup-id", v1_backup, "--yes"], database_url=url)
        assert result.returncode == 1
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert "30 configs back in v1 shape while v2 serves 3 of their tenants" in lines[0]
        assert "--with-total-rollback" in lines[0] and "nothing was changed" in lines[0]
        with pytest.raises(OperationRefused, match="v2 serves 3 of their tenants"):
            restore_backup(conn, v1_backup)  # the library refuses too, under the restore's lock

        assert scalar(conn, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'") == 30
        assert len(list_backups(conn)) == backups_before, "no safety backup: nothing was attempted"
        assert scalar(conn, "SELECT max(id) FROM voice_agent_v2_flag_audit") == audit_before


def test_a_tenant_kept_on_v1_does_not_block_and_a_v2_shape_backup_restores_at_100_percent(
    migrated: tuple[str, str],
) -> None:
    url, v1_backup = migrated
    with psycopg.connect(url, autocommit=True) as conn:
        v2_backup = create_backup(conn, ["tenant_000002"]).backup_id
        flags.update_rollout_percentage(conn, 100, "ann")
        # v2 shape: nothing to refuse, and the report names the tenant v2 served.
        result = restore_backup(conn, v2_backup)
        assert result.tenants_on_v2 == ("tenant_000002",) and not result.total_rollback
        # A v1-shape backup of a tenant v2 does not serve (kept on v1 by an override) is no risk either.
        tenant_one = create_backup(conn, ["tenant_000001"]).backup_id
        flags.set_tenant_override(conn, "tenant_000001", False, "ann", reason=None, action="rollback_tenant")
        plan = plan_restore(conn, v1_backup)
        assert plan.flags.harmed == ("tenant_000002", "tenant_000003")
        assert plan.flags.refusal(v1_backup) is not None
        assert plan_restore(conn, tenant_one).flags.refusal(tenant_one) is None


def test_with_total_rollback_turns_v2_off_first_then_restores_and_lists_the_tenants(
    migrated: tuple[str, str],
    webhook: tuple[str, Inbox],  # noqa: F811
) -> None:
    url, v1_backup = migrated
    hook, inbox = webhook
    with psycopg.connect(url, autocommit=True) as conn:
        flags.update_rollout_percentage(conn, 100, "ann")
    result = run_cli(
        [
            *("rollback", "--level", "data", "--backup-id", v1_backup, "--yes", "--with-total-rollback"),
            *("--reason", "bad deploy 2.3 corrupted prompts", "--by", "ann"),
        ],
        database_url=url,
        env={"SLACK_WEBHOOK_URL": hook},
    )
    assert result.returncode == 0, result.stderr
    assert "First the master switch is turned OFF" in result.stdout
    assert f"Tenants on v2 when the restore began (3): {', '.join(TENANTS)}" in result.stdout
    with psycopg.connect(url, autocommit=True) as conn:
        last = conn.execute(
            "SELECT action, changed_by, reason, new_value FROM voice_agent_v2_flag_audit ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert last == (
            "rollback_total",
            "ann",
            "bad deploy 2.3 corrupted prompts",
            {"enabled": False, "rollout_percentage": 100},
        )
        assert scalar(conn, "SELECT count(*) FROM voice_agent_configs WHERE schema_version IS NULL") == 30
        assert [enabled for (enabled,) in conn.execute("SELECT voice_agent_v2_enabled(id) FROM tenants")] == [False] * 3
    deadline = time.monotonic() + 10
    while len(inbox.items) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    texts = [json.loads(item)["text"] for item in inbox.items]
    assert any("OFF for every tenant" in text and "bad deploy 2.3" in text for text in texts), texts
    restored = next(text for text in texts if "rollback_data" in text)
    assert "tenants_on_v2_at_restore: 3" in restored and "master_switch_turned_off_first: True" in restored
    assert texts.index(restored) > 0, "the switch went off (and was announced) before the restore"


def test_delete_newer_removes_rows_created_after_the_backup_keeping_them_in_the_safety_backup(
    migrated: tuple[str, str],
) -> None:
    url, _ = migrated
    with psycopg.connect(url, autocommit=True) as conn:
        backup = create_backup(conn).backup_id
        before = scalar(conn, "SELECT count(*) FROM voice_agent_calls")
        # Corruption that inserted rows: a config and two calls that were never there.
        conn.execute(
            "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
            "VALUES ('cfg_inserted', 'tenant_000001', 'x', 'Hola', 'voice_1', 'es', true)"
        )
        conn.execute(
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, status) "
            "VALUES ('call_inserted_1', 'tenant_000001', 'cfg_inserted', 'completed'), "
            "('call_inserted_2', 'tenant_000002', 'cfg_inserted', 'failed')"
        )
        kept = restore_backup(conn, backup)
        assert kept.newer_total == 3 and kept.deleted_total == 0
        assert scalar(conn, "SELECT count(*) FROM voice_agent_calls") == before + 2  # kept by default

        result = restore_backup(conn, backup, delete_newer=True)
        by_table = {t.table: t.deleted for t in result.tables}
        assert by_table["voice_agent_configs"] == 1 and by_table["voice_agent_calls"] == 2
        assert scalar(conn, "SELECT count(*) FROM voice_agent_calls") == before
        assert scalar(conn, "SELECT count(*) FROM voice_agent_configs WHERE id = 'cfg_inserted'") == 0
        safety = result.safety_backup_id
        in_safety = scalar(
            conn,
            f"SELECT (SELECT count(*) FROM voice_migration.{safety}_calls WHERE id LIKE 'call_inserted_%') "
            f"+ (SELECT count(*) FROM voice_migration.{safety}_configs WHERE id = 'cfg_inserted')",
        )
        assert in_safety == 3
        restore_backup(conn, safety)  # and the safety backup brings them back
        assert scalar(conn, "SELECT count(*) FROM voice_agent_calls") == before + 2


def test_the_data_options_belong_to_level_data(migrated: tuple[str, str]) -> None:
    url, _ = migrated
    wrong = run_cli(["rollback", "--level", "total", "--reason", "x", "--delete-newer"], database_url=url)
    assert wrong.returncode == 2 and "--level total does not take --delete-newer" in wrong.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        audit = scalar(conn, "SELECT count(*) FROM voice_agent_v2_flag_audit")
    assert audit == 1, "only the install row: nothing was changed"
