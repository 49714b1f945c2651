"""Two operators at once: one wins cleanly, the other is refused (or waits its turn), and the record is complete.

* two ``migrate``: the second is refused at once (the operation lock); the first ends as if alone;
* ``migrate`` + ``rollback --level data``: the restore is refused while the migration runs, and
  works once it is over;
* two ``rollout set-percentage``: serialised on the flags row; both land, and the audit has both,
  the second recording the first's value as its "before".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.helpers import (
    BATCH_SIZE,
    ForkedCli,
    error_lines,
    fork_cli,
    invoke,
    scalar,
    set_slow_batches,
    url_state,
)

pytestmark = pytest.mark.reliability

BUSY = "another voice-migration migrate or data restore is running"


@contextmanager
def slow_migration(url: str) -> Iterator[ForkedCli]:
    """A ``migrate`` in its own process, held inside its backfill (100 ms a batch) for the block."""
    set_slow_batches(url, True)
    child = fork_cli(["migrate", "--yes", "--batch-size", str(BATCH_SIZE), "--log-format", "json", "-v"], url=url)
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        for line in child.stderr:
            if '"phase": "transform configs"' in line and '"done"' in line:
                break
        else:
            raise AssertionError("migrate ended before its backfill")
        yield child
    finally:
        set_slow_batches(url, False)
        watchdog.cancel()


def test_a_second_migrate_is_refused_while_the_first_runs_and_the_first_ends_as_if_alone(
    seeded_url: str, reference_state: dict[str, str]
) -> None:
    with slow_migration(seeded_url) as first:
        second = invoke(["migrate", "--yes"], url=seeded_url)
        assert second.exit_code == 1, second.output
        assert len(error_lines(second.stderr)) == 1 and BUSY in second.stderr
        set_slow_batches(seeded_url, False)
        assert first.wait() == 0

    assert url_state(seeded_url) == reference_state
    kinds = scalar(seeded_url, "SELECT string_agg(kind, ',') FROM voice_migration.backups")
    assert kinds == "migrate", "one backup: the refused run took none"


def test_a_data_rollback_is_refused_during_a_migration_and_works_after_it(seeded_url: str) -> None:
    created = invoke(["backups", "create"], url=seeded_url)
    assert created.exit_code == 0, created.output
    backup_id = str(scalar(seeded_url, "SELECT backup_id FROM voice_migration.backups"))

    with slow_migration(seeded_url) as migration:
        refused = invoke(["rollback", "--level", "data", "--backup-id", backup_id, "--yes"], url=seeded_url)
        assert refused.exit_code == 1, refused.output
        assert len(error_lines(refused.stderr)) == 1 and BUSY in refused.stderr
        assert scalar(seeded_url, "SELECT count(*) FROM voice_migration.backups WHERE kind = 'safety'") == 0
        set_slow_batches(seeded_url, False)
        assert migration.wait() == 0

    restored = invoke(["rollback", "--level", "data", "--backup-id", backup_id, "--yes"], url=seeded_url)
    assert restored.exit_code == 0, restored.output
    assert scalar(seeded_url, "SELECT count(*) FROM voice_migration.backups WHERE kind = 'safety'") == 1


def test_two_set_percentage_at_once_are_serialised_and_both_audited(staged_url: str) -> None:
    with psycopg.connect(staged_url) as holder:
        # Hold the flags row, start both operators; they queue behind it and then behind each other.
        holder.execute("SELECT 1 FROM voice_agent_v2_flags FOR UPDATE")
        alice = fork_cli(["rollout", "set-percentage", "10", "--by", "alice"], url=staged_url)
        bob = fork_cli(["rollout", "set-percentage", "20", "--by", "bob"], url=staged_url)
        threading.Event().wait(0.5)
        holder.rollback()
    assert (alice.wait(), bob.wait()) == (0, 0)

    with psycopg.connect(staged_url) as conn:
        audit = conn.execute(
            "SELECT changed_by, (old_value ->> 'rollout_percentage')::int, (new_value ->> 'rollout_percentage')::int "
            "FROM voice_agent_v2_flag_audit WHERE changed_by IN ('alice', 'bob') ORDER BY id"
        ).fetchall()
        final = conn.execute("SELECT rollout_percentage FROM voice_agent_v2_flags").fetchone()
    assert sorted(row[0] for row in audit) == ["alice", "bob"]
    (_, first_old, first_new), (_, second_old, second_new) = audit
    assert first_old == 0 and second_old == first_new, "the second change saw (and recorded) the first"
    assert final == (second_new,)
