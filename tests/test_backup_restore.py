"""Backups and the data restore: copies, ids, scope, round trips, confirmation rules, hostile ids."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers import run_cli, v1_checksums
from voice_migration.cli.backups_cmd import restore_from_cli
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.errors import CheckFailed, LockTimeoutExhausted, OperationRefused, UsageError
from voice_migration.infra.locks import LOCK_NAMESPACE, LOCK_OPERATION
from voice_migration.migration.backup import create_backup, get_backup, list_backups
from voice_migration.migration.restore import plan_restore, restore_backup

Conn = psycopg.Connection[tuple[object, ...]]
UNREACHABLE = "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"
CLI = ["-m", "voice_migration"]


@pytest.fixture()
def seeded_url(v1_database_url: str) -> str:
    """A v1 database with a little messy data: 3 tenants, 64 configs, 200 calls."""
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(tenants=3, configs=64, calls=200, messy=True))
    return v1_database_url


@pytest.fixture()
def conn(seeded_url: str) -> Iterator[Conn]:
    """An autocommit connection to the seeded v1 database."""
    with psycopg.connect(seeded_url, autocommit=True) as connection:
        yield connection


def count(conn: Conn, query: str) -> int:
    row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


def run_in_tty(python_args: list[str], answer: str, *, database_url: str) -> tuple[int, str]:
    """Run ``python PYTHON_ARGS`` on a pseudo-terminal (stdin and stdout) and type ``answer`` at the first prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_MIGRATION_")}
    env["DATABASE_URL"] = database_url
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI, its terminal is the pty
        os.execve(sys.executable, [sys.executable, *python_args], env)  # noqa: S606
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        if not answered and (b"[y/N]" in output or b"Type backup_" in output):
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_a_backup_of_a_v1_database_copies_every_row_and_records_a_manifest(conn: Conn) -> None:
    assert count(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'voice_migration'") == 0
    info = create_backup(conn)
    assert info.alembic_revision == "0001_v1_baseline"
    assert info.tenant_ids is None and info.scope == "all tenants"
    assert (info.tenants_count, info.configs_count, info.calls_count) == (
        count(conn, "SELECT count(*) FROM tenants"),
        count(conn, "SELECT count(*) FROM voice_agent_configs"),
        count(conn, "SELECT count(*) FROM voice_agent_calls"),
    )
    assert info.metrics_count is None, "a v1 database has no metrics table to copy"
    assert set(info.checksums) == {"tenants", "configs", "calls"} and info.size_bytes > 0
    copy = f"voice_migration.{info.backup_id}_configs"
    assert count(conn, f"SELECT count(*) FROM {copy}") == info.configs_count
    for table, backup_table in (
        ("voice_agent_configs", copy),
        ("voice_agent_calls", copy[: -len("configs")] + "calls"),
    ):
        assert count(conn, f"SELECT count(*) FROM (TABLE {table} EXCEPT ALL TABLE {backup_table}) d") == 0
        assert count(conn, f"SELECT count(*) FROM (TABLE {backup_table} EXCEPT ALL TABLE {table}) d") == 0
    assert count(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'voice_migration' "
                       "AND has_schema_privilege('public', oid, 'USAGE')") == 0  # fmt: skip


def test_backup_ids_never_collide_within_the_same_second(conn: Conn) -> None:
    with conn.transaction():  # now() is the same for both: the second id needs a suffix
        first = create_backup(conn)
        second = create_backup(conn)
    assert first.backup_id.startswith("backup_") and len(first.backup_id) == len("backup_20240115_143022")
    assert second.backup_id == first.backup_id + "_2"
    assert [b.backup_id for b in list_backups(conn)] == [second.backup_id, first.backup_id]


def test_a_tenant_scoped_backup_holds_only_those_tenants(conn: Conn) -> None:
    info = create_backup(conn, ["tenant_000002"])
    assert info.tenant_ids == ("tenant_000002",)
    assert info.configs_count == count(
        conn, "SELECT count(*) FROM voice_agent_configs WHERE tenant_id = 'tenant_000002'"
    )
    assert count(conn, f"SELECT count(*) FROM voice_migration.{info.backup_id}_calls "
                       "WHERE tenant_id <> 'tenant_000002'") == 0  # fmt: skip


def test_unknown_tenant_ids_are_a_usage_error(seeded_url: str) -> None:
    result = run_cli(["backups", "create", "--tenant-ids", "tenant_000001,nobody"], database_url=seeded_url)
    assert result.returncode == 2
    assert "nobody" in result.stderr and result.stderr.count("\n") == 1
    listed = run_cli(["backups", "list"], database_url=seeded_url)
    assert "backup_" not in listed.stdout, "nothing was backed up"


def test_restore_round_trip_keeps_rows_added_after_the_backup(
    conn: Conn, seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = v1_checksums(conn)
    info = create_backup(conn)
    conn.execute(
        "UPDATE voice_agent_configs SET prompt = 'corrupted', language = NULL WHERE tenant_id = 'tenant_000001'"
    )
    conn.execute("DELETE FROM voice_agent_calls WHERE id IN (SELECT id FROM voice_agent_calls ORDER BY id LIMIT 7)")
    conn.execute("UPDATE tenants SET name = 'renamed'")
    conn.execute(
        "INSERT INTO voice_agent_configs (id, tenant_id, name) VALUES ('cfg_new_after_backup', 'tenant_000001', 'n')"
    )

    plan = plan_restore(conn, info.backup_id)
    by_table = {t.table: t for t in plan.tables}
    assert by_table["voice_agent_calls"].reinserted == 7
    assert by_table["voice_agent_configs"].newer_sample == ("cfg_new_after_backup",)

    restore_from_cli(seeded_url, info.backup_id, yes=True)
    out = capsys.readouterr().out
    assert "Rows created after the backup are KEPT" in out and "cfg_new_after_backup" in out
    assert out.index("cfg_new_after_backup") < out.index("Restored "), "the operator is told before the restore"
    assert count(conn, "SELECT count(*) FROM voice_agent_configs WHERE id = 'cfg_new_after_backup'") == 1
    conn.execute("DELETE FROM voice_agent_configs WHERE id = 'cfg_new_after_backup'")
    assert v1_checksums(conn) == before


def test_a_restore_can_be_undone_with_its_safety_backup(conn: Conn) -> None:
    info = create_backup(conn)
    conn.execute("UPDATE voice_agent_configs SET voice_id = 'changed-after-backup'")
    changed = v1_checksums(conn)
    result = restore_backup(conn, info.backup_id)
    assert count(conn, "SELECT count(*) FROM voice_agent_configs WHERE voice_id = 'changed-after-backup'") == 0
    assert get_backup(conn, result.safety_backup_id).kind == "safety"
    restore_backup(conn, result.safety_backup_id)
    assert v1_checksums(conn) == changed


def test_a_tenant_scoped_restore_touches_no_other_tenant(conn: Conn) -> None:
    info = create_backup(conn, ["tenant_000001"])
    conn.execute("UPDATE voice_agent_configs SET prompt = 'edited later'")
    restore_backup(conn, info.backup_id)
    assert count(conn, "SELECT count(*) FROM voice_agent_configs WHERE prompt = 'edited later' "
                       "AND tenant_id = 'tenant_000001'") == 0  # fmt: skip
    assert count(conn, "SELECT count(*) FROM voice_agent_configs WHERE prompt = 'edited later'") == count(
        conn, "SELECT count(*) FROM voice_agent_configs WHERE tenant_id IS DISTINCT FROM 'tenant_000001'"
    )


def test_a_damaged_backup_is_refused_and_nothing_changes(conn: Conn) -> None:
    info = create_backup(conn)
    conn.execute(f"UPDATE voice_migration.{info.backup_id}_configs SET prompt = 'tampered' WHERE id = 'cfg_00000005'")
    conn.execute("UPDATE voice_agent_configs SET prompt = 'current'")
    current = v1_checksums(conn)
    with pytest.raises(CheckFailed, match="damaged"):
        restore_backup(conn, info.backup_id)
    assert v1_checksums(conn) == current
    assert [b.backup_id for b in list_backups(conn)] == [info.backup_id], "no safety backup left behind"


def test_a_restore_is_refused_while_a_migration_holds_the_lock(conn: Conn, seeded_url: str) -> None:
    info = create_backup(conn)
    with psycopg.connect(seeded_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, LOCK_OPERATION))
        with pytest.raises(OperationRefused, match="another voice-migration migrate or data restore is running"):
            restore_backup(conn, info.backup_id)
    assert len(list_backups(conn)) == 1


@pytest.mark.parametrize(
    "hostile",
    [
        "backup_20240115_143022; DROP TABLE tenants",
        "backup_20240115_143022\n",
        "../../etc/passwd",
        "backup_2024011_143022",
        "BACKUP_20240115_143022",
        "backup_20240115_143022_",
        "backup_٢٠٢٤٠١١٥_143022",
        "",
    ],
)
def test_a_malformed_backup_id_is_refused_before_any_sql(hostile: str) -> None:
    # The URL points nowhere: reaching the database would be a connection error, not this one.
    with pytest.raises(UsageError, match="is not a backup id"):
        restore_from_cli(UNREACHABLE, hostile, yes=True)
    result = run_cli(["backups", "drop", hostile, "--yes"], database_url=UNREACHABLE)
    assert result.returncode == 2 and "is not a backup id" in result.stderr
    assert result.stderr.count("\n") == 1


def test_drop_without_a_terminal_needs_yes(conn: Conn, seeded_url: str) -> None:
    old = create_backup(conn)
    time.sleep(1.01)  # distinct seconds: `old` is not the newest
    create_backup(conn)
    refused = run_cli(["backups", "drop", old.backup_id], database_url=seeded_url)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert old.backup_id in {b.backup_id for b in list_backups(conn)}
    dropped = run_cli(["backups", "drop", old.backup_id, "--yes"], database_url=seeded_url)
    assert dropped.returncode == 0, dropped.stderr
    assert old.backup_id not in {b.backup_id for b in list_backups(conn)}
    assert count(conn, f"SELECT count(*) FROM pg_class WHERE relname LIKE '{old.backup_id}%'") == 0


def test_the_newest_backup_cannot_be_dropped_without_force(conn: Conn, seeded_url: str) -> None:
    newest = create_backup(conn)
    refused = run_cli(["backups", "drop", newest.backup_id, "--yes"], database_url=seeded_url)
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = run_cli(["backups", "drop", newest.backup_id, "--yes", "--force"], database_url=seeded_url)
    assert forced.returncode == 0, forced.stderr
    assert list_backups(conn) == []


def test_on_a_terminal_drop_asks_and_honours_the_answer(conn: Conn, seeded_url: str) -> None:
    info = create_backup(conn)
    code, output = run_in_tty([*CLI, "backups", "drop", info.backup_id, "--force"], "n", database_url=seeded_url)
    assert code == 1 and "cancelled by the operator" in output
    assert len(list_backups(conn)) == 1
    code, output = run_in_tty([*CLI, "backups", "drop", info.backup_id, "--force"], "y", database_url=seeded_url)
    assert code == 0 and "dropped" in output
    assert list_backups(conn) == []


def test_on_a_terminal_a_restore_needs_the_backup_id_typed(conn: Conn, seeded_url: str) -> None:
    info = create_backup(conn)
    conn.execute("UPDATE voice_agent_configs SET prompt = 'after'")
    # What `rollback --level data --backup-id ID` runs, without --yes.
    restore = [
        "-c",
        "from voice_migration.cli.backups_cmd import restore_from_cli; "
        f"restore_from_cli(None, {info.backup_id!r}, False)",
    ]
    code, output = run_in_tty(restore, "yes", database_url=seeded_url)
    assert code != 0 and "did not match" in output
    assert count(conn, "SELECT count(*) FROM voice_agent_configs WHERE prompt = 'after'") > 0
    code, output = run_in_tty(restore, info.backup_id, database_url=seeded_url)
    assert code == 0 and "Restored" in output
    assert count(conn, "SELECT count(*) FROM voice_agent_configs WHERE prompt = 'after'") == 0


def test_the_password_is_never_printed(seeded_url: str) -> None:
    with_password = seeded_url.replace("postgresql://postgres@", "postgresql://postgres:hunter2@")
    assert "hunter2" in with_password
    for args in (["backups", "create"], ["backups", "list"], ["backups", "drop", "backup_20000101_000000"]):
        result = run_cli(args, database_url=with_password)
        assert result.returncode in (0, 2), result.stderr
        assert "hunter2" not in result.stdout + result.stderr


def test_a_restore_that_cannot_lock_the_tables_gives_up_after_retries(conn: Conn, seeded_url: str) -> None:
    info = create_backup(conn)
    conn.execute("SET lock_timeout = '100ms'")
    with psycopg.connect(seeded_url) as writer:  # an application transaction left open on a config
        writer.execute("UPDATE voice_agent_configs SET name = name WHERE id = 'cfg_00000004'")
        with pytest.raises(LockTimeoutExhausted, match="could not lock the tables"):
            restore_backup(conn, info.backup_id)
        writer.rollback()
    assert [b.kind for b in list_backups(conn)] == ["manual"], "nothing was left half-done"
