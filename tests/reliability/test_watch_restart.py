"""The database stops and comes back in the middle of ``rollout watch``: one log line, back-off, recovery.

Decision (docs/rollout.md): unlike ``migrate``, the watcher is a long-lived process, so it reconnects by
itself. While the database is away it decides nothing; the run of bad windows lives in the database, so
the window seen before the outage and the one after it are still two in a row, and the rollback happens
exactly once. Runs its own throwaway server (stopped and started with ``pg_ctl``) and a simulated clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.conftest import add_calls, add_tenants
from tests.reliability.support import pg_ctl
from voice_migration import flags
from voice_migration.infra.db import connect
from voice_migration.infra.embedded import EphemeralPostgres
from voice_migration.infra.settings import load_settings
from voice_migration.migration import revisions
from voice_migration.rollout.health import HealthPolicy
from voice_migration.rollout.watch import WATCH_ACTOR, Backoff, Evaluation, WatchConfig, run_watch

pytestmark = pytest.mark.reliability

INTERVAL = timedelta(minutes=10)


@pytest.fixture()
def watched() -> Iterator[tuple[str, EphemeralPostgres]]:
    """A database at head on a server of its own, with tenants and v2 at 25 %."""
    server = EphemeralPostgres()
    server.start()
    try:
        url = server.url.rsplit("/", 1)[0] + "/watched"
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE watched")
        revisions.upgrade(load_settings(url, env={}), "head")
        with psycopg.connect(url, autocommit=True) as conn:
            add_tenants(conn, 10)
            flags.update_rollout_percentage(conn, 25, "ann")
        yield url, server
    finally:
        server.stop()


def bad_window(url: str, at: datetime) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        add_calls(conn, "v1", 100, failed=1, at=at - timedelta(minutes=1))
        add_calls(conn, "v2", 100, failed=20, at=at - timedelta(minutes=1))


def test_a_database_outage_mid_watch_is_logged_once_retried_with_back_off_and_recovered(
    watched: tuple[str, EphemeralPostgres], caplog: pytest.LogCaptureFixture
) -> None:
    url, server = watched
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None and isinstance(row[0], datetime)
    clock = row[0] + INTERVAL
    bad_window(url, clock)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        nonlocal clock
        waits.append(seconds)
        if len(waits) == 1:  # after the first evaluation: the server goes away
            pg_ctl(server, "stop")
        elif len(waits) == 3:  # two failed attempts later it is back, with the next window of traffic
            pg_ctl(server, "start")
            clock += INTERVAL
            bad_window(url, clock)

    seen: list[Evaluation] = []
    config = WatchConfig(auto_rollback=True, policy=HealthPolicy(window=INTERVAL, min_calls=50), interval=INTERVAL)
    with caplog.at_level(logging.WARNING, logger="voice_migration.rollout.watch"):
        ran = run_watch(
            lambda: connect(load_settings(url, env={}), autocommit=True),
            config,
            on_evaluation=seen.append,
            notify=lambda *message: None,
            clock=lambda: clock,
            sleep=sleep,
            max_evaluations=2,
            backoff=Backoff(first=1.0),
        )

    assert ran == 2
    assert waits == [600.0, 1.0, 2.0]  # the interval, then the back-off doubling
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "the database is unreachable" in messages[0] and "deciding nothing" in messages[0]
    assert "answers again after 2 failed attempt(s)" in messages[1]
    assert [(e.verdict, e.failures, e.action) for e in seen] == [("degraded", 1, "none"), ("degraded", 2, "rollback")]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchone() == (True, 10)
        actions = conn.execute(
            "SELECT action FROM voice_agent_v2_flag_audit WHERE changed_by = %s", (WATCH_ACTOR,)
        ).fetchall()
        assert actions == [("rollback_partial",)]
        assert conn.execute("SELECT count(*) FROM voice_migration.rollout_evaluations").fetchone() == (2,)
        assert conn.execute(
            "SELECT count(*) FROM voice_migration.rollout_pauses WHERE resumed_at IS NULL"
        ).fetchone() == (1,)
