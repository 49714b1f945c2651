"""Long transactions and slow batches: bounded waits, retries with backoff, a clear stop, the blocker left alone.

* A transaction holding the configs table (ACCESS SHARE, e.g. a long report) blocks the schema step:
  every attempt waits at most ``lock_timeout`` (so a v1 writer queued behind it waits no longer),
  the attempts back off, then ``migrate`` stops with one line naming the cause; nothing is cancelled.
* A transaction holding config rows (FOR UPDATE) blocks the backfill the same way, batch by batch.
* A batch that hits ``statement_timeout`` is halved and retried (GitLab's batched migrations), and the
  run says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from click.testing import Result

from tests.helpers import BATCH_SIZE, error_lines, invoke, scalar, url_state
from voice_migration.migration import revisions

pytestmark = pytest.mark.reliability

LOCK_TIMEOUT = 0.3  # seconds, VOICE_MIGRATION_LOCK_TIMEOUT for these runs


@contextmanager
def long_transaction(url: str, statement: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A session that runs ``statement`` and keeps its transaction (and locks) open for the block."""
    with psycopg.connect(url, application_name="long-report") as conn:
        conn.execute(statement.encode())
        yield conn
        conn.rollback()


@dataclass
class V1Writer:
    """A v1 application updating one config in a loop; records how long each write waited."""

    url: str
    latencies: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="v1-app") as conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                conn.execute("UPDATE voice_agent_configs SET updated_at = updated_at WHERE id = 'cfg_00000020'")
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.02)


def assert_still_running(blocker: psycopg.Connection[tuple[object, ...]], pid: int) -> None:
    """The long transaction was neither cancelled nor terminated: same session, transaction still open."""
    assert blocker.info.backend_pid == pid
    assert blocker.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert blocker.execute("SELECT 1").fetchone() == (1,)


def timed_migrate(url: str) -> tuple[Result, float]:
    """``migrate`` with the short lock timeout of these tests, and how long it took."""
    started = time.perf_counter()
    result = invoke(
        ["migrate", "--yes", "--batch-size", str(BATCH_SIZE)],
        url=url,
        env={"VOICE_MIGRATION_LOCK_TIMEOUT": f"{int(LOCK_TIMEOUT * 1000)}ms"},
    )
    return result, time.perf_counter() - started


def test_a_long_transaction_on_the_configs_table_bounds_each_wait_then_stops_migrate_clearly(
    seeded_url: str, reference_state: dict[str, str]
) -> None:
    writer = V1Writer(seeded_url)
    thread = threading.Thread(target=writer.run, daemon=True)
    with long_transaction(seeded_url, "SELECT count(*) FROM voice_agent_configs") as blocker:
        pid = blocker.info.backend_pid
        thread.start()
        result, elapsed = timed_migrate(seeded_url)
        writer.stop.set()
        thread.join(timeout=10)
        assert_still_running(blocker, pid)

    assert result.exit_code == 1, result.output
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert "could not lock" in errors[0] and "3 times" in errors[0] and "pg_stat_activity" in errors[0]
    # Three attempts with pauses of 0.5 s and 1 s between them: it backed off, and it gave up.
    assert elapsed >= 3 * LOCK_TIMEOUT + 1.5
    # The v1 writer queued behind the ALTER at most one lock timeout (plus scheduling slack).
    assert writer.latencies and max(writer.latencies) < LOCK_TIMEOUT + 0.5, max(writer.latencies)

    with psycopg.connect(seeded_url) as conn:
        assert revisions.current_revision(conn) == "0002_v2_flags", "the blocked revision rolled back whole"
    rerun = invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=seeded_url)
    assert rerun.exit_code == 0, rerun.output
    assert url_state(seeded_url) == reference_state


def test_config_rows_locked_by_a_long_transaction_make_the_backfill_back_off_then_stop_clearly(
    staged_url: str, reference_state: dict[str, str]
) -> None:
    with long_transaction(staged_url, "SELECT id FROM voice_agent_configs FOR UPDATE") as blocker:
        pid = blocker.info.backend_pid
        result, elapsed = timed_migrate(staged_url)
        assert_still_running(blocker, pid)

    assert result.exit_code == 1, result.output
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert "could not lock its next batch in 5 attempts" in errors[0] and "resumes" in errors[0]
    assert elapsed >= 0.2 + 0.4 + 0.8 + 1.6, "four pauses, doubling from 0.2 s"
    assert scalar(staged_url, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'") == 0

    rerun = invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=staged_url)
    assert rerun.exit_code == 0, rerun.output
    assert url_state(staged_url) == reference_state


# Four configs of the first batch take 0.3 s each to write: a batch of 10 (1.2 s) exceeds the
# statement timeout of 0.75 s, a batch of 5 (0.6 s) does not.
SLOW_ROWS_SQL = """
CREATE FUNCTION public.reliability_slow_row() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF NEW.id BETWEEN 'cfg_00000004' AND 'cfg_00000007' THEN PERFORM pg_sleep(0.3); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reliability_slow_row BEFORE UPDATE ON public.voice_agent_configs
    FOR EACH ROW EXECUTE FUNCTION public.reliability_slow_row();
"""


def test_a_batch_over_the_statement_timeout_is_halved_retried_and_reported(staged_url: str) -> None:
    with psycopg.connect(staged_url, autocommit=True) as conn:
        conn.execute(SLOW_ROWS_SQL.encode())
    result = invoke(
        ["migrate", "--yes", "--batch-size", "10", "--verbose"],
        url=staged_url,
        env={"VOICE_MIGRATION_STATEMENT_TIMEOUT": "750ms"},
    )
    assert result.exit_code == 0, result.output
    migrated = scalar(staged_url, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'")
    assert migrated == 57, "every migratable config made it, the slow ones included"
    # Reported as it happens, in the run's log (stderr), with the setting and the new size.
    halved = [line for line in result.stderr.splitlines() if "batch size halved" in line]
    assert halved and "statement timeout (750ms) on a batch of 10 rows; batch size halved to 5" in halved[0], (
        result.stderr
    )
