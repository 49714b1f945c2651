"""PostgreSQL restarted (fast shutdown) in the middle of ``migrate``: one clear line, then a re-run completes.

Decision (docs/reliability.md): ``migrate`` does not reconnect by itself. A fast shutdown ends every
session and rolls back the open batch; the CLI exits 2 with one line saying the connection was lost
and that a re-run resumes; the re-run picks up after the last committed batch. Reconnecting silently
would hide a server that is restarting in a loop.

This test runs its own throwaway server (``EphemeralPostgres``), so it can restart it without
disturbing the session's server, and runs ``python -m voice_migration migrate`` as an operator would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from tests.reliability.support import (
    BATCH_SIZE,
    SLOW_BATCHES_SQL,
    SPEC,
    counts,
    error_lines,
    invoke,
    pg_ctl,
    set_slow_batches,
    start_cli,
    url_state,
)
from voice_migration.demo.seed import seed_v1
from voice_migration.infra.embedded import EphemeralPostgres
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions

pytestmark = pytest.mark.reliability


@pytest.fixture()
def restartable_url() -> Iterator[tuple[str, EphemeralPostgres]]:
    """A seeded v1 database on a server of its own, and that server."""
    server = EphemeralPostgres()
    server.start()
    try:
        url = server.url.rsplit("/", 1)[0] + "/restart_me"
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE restart_me")
        revisions.upgrade(load_settings(url, env={}), revisions.BASELINE_REVISION)
        with psycopg.connect(url) as conn:
            seed_v1(conn, SPEC)
            conn.execute(SLOW_BATCHES_SQL.encode())
            conn.commit()
        yield url, server
    finally:
        server.stop()


def test_a_fast_restart_mid_batch_ends_migrate_with_one_line_and_a_rerun_completes(
    restartable_url: tuple[str, EphemeralPostgres], reference_state: dict[str, str]
) -> None:
    url, server = restartable_url
    before = counts(url)
    process = start_cli(url, "migrate", "--yes", "--batch-size", str(BATCH_SIZE), "--log-format", "json", "-v")
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if '"phase": "infer outcomes"' in line and '"done"' in line:
                break
        set_slow_batches(url, True)  # the next batch stays open 100 ms: the restart finds it running
        pg_ctl(server, "restart")
        _, rest = process.communicate(timeout=60)
    finally:
        watchdog.cancel()

    assert process.returncode == 2, rest
    errors = error_lines(rest)
    assert len(errors) == 1, rest
    assert "lost the database connection" in errors[0] and "re-run the command" in errors[0]
    assert "Traceback" not in rest

    set_slow_batches(url, False)
    assert counts(url) == before
    rerun = invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=url)
    assert rerun.exit_code == 0, rerun.output
    assert url_state(url) == reference_state
