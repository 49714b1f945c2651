"""The cached check: in-process answers, refreshed at once by NOTIFY and within the TTL without it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.conftest import add_tenants, settings_for
from voice_migration import flags
from voice_migration.rollout.cache import CachedFlagCheck, bucket

Conn = psycopg.Connection[tuple[object, ...]]


def first_tenant_with_bucket(tenants: list[str], minimum: int) -> str:
    return next(t for t in tenants if bucket(t) >= minimum)


def seconds_until(condition: Callable[[], bool], limit: float) -> float | None:
    """How long until ``condition()`` holds (polled every 10 ms), or None after ``limit`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if condition():
            return time.monotonic() - started
        time.sleep(0.01)
    return None


@pytest.fixture()
def cached(flags_database_url: str) -> Iterator[CachedFlagCheck]:
    """A started cached check with a long TTL, so only NOTIFY can refresh it quickly."""
    check = CachedFlagCheck(settings_for(flags_database_url), ttl=60)
    check.start()
    yield check
    check.close()


def test_a_change_reaches_the_cache_within_a_second_of_notify(flags_conn: Conn, cached: CachedFlagCheck) -> None:
    tenant = first_tenant_with_bucket(add_tenants(flags_conn, 50), 50)
    assert cached.is_enabled(tenant) is False
    flags.update_rollout_percentage(flags_conn, 100, "test")
    assert (elapsed := seconds_until(lambda: cached.is_enabled(tenant), 1.0)) is not None
    assert elapsed < 1.0
    flags.disable_tenant_for_v2(flags_conn, tenant, "test")
    assert seconds_until(lambda: not cached.is_enabled(tenant), 1.0) is not None


def test_a_lost_notification_is_made_up_for_within_the_ttl(flags_database_url: str, flags_conn: Conn) -> None:
    tenant = add_tenants(flags_conn, 1)[0]
    with CachedFlagCheck(settings_for(flags_database_url), ttl=0.5) as check:
        assert check.is_enabled(tenant) is False
        # Triggers off for this session: the change is committed but no NOTIFY is ever sent.
        flags_conn.execute("SET session_replication_role = replica")
        flags_conn.execute("UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 100")
        elapsed = seconds_until(lambda: check.is_enabled(tenant), 3.0)
    assert elapsed is not None, "the TTL refresh never picked the change up"
    assert elapsed <= 0.5 + 0.5  # the TTL, plus the reload and polling slack


def test_without_listen_the_ttl_alone_refreshes(flags_database_url: str, flags_conn: Conn) -> None:
    tenant = add_tenants(flags_conn, 1)[0]
    with CachedFlagCheck(settings_for(flags_database_url), ttl=0.3, listen=False) as check:
        assert check.is_enabled(tenant) is False
        flags.update_rollout_percentage(flags_conn, 100, "test")
        assert seconds_until(lambda: check.is_enabled(tenant), 2.0) is not None


def test_the_cached_check_answers_without_querying_and_from_many_threads(
    flags_conn: Conn, cached: CachedFlagCheck
) -> None:
    tenants = add_tenants(flags_conn, 200)
    flags.update_rollout_percentage(flags_conn, 40, "test")
    assert seconds_until(lambda: cached.snapshot is not None and cached.snapshot.percentage == 40, 2.0) is not None
    expected = {t: bucket(t) < 40 for t in tenants}
    expected_in_sql = dict(flags_conn.execute("SELECT id, voice_agent_v2_enabled(id) FROM tenants").fetchall())
    assert expected == expected_in_sql
    errors: list[str] = []

    def hammer() -> None:
        for _ in range(250):
            for tenant in tenants:
                if cached.is_enabled(tenant) != expected[tenant]:
                    errors.append(tenant)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert errors == []
    # 200,000 answers: a query per answer would take minutes; in process it takes well under that.
    assert elapsed < 10


def test_the_cache_answers_v1_while_the_database_is_unreachable(flags_database_url: str) -> None:
    unreachable = settings_for("postgresql://nobody@127.0.0.1:1/none")
    check = CachedFlagCheck(unreachable, ttl=1, startup_timeout=0.2)
    try:
        started = time.monotonic()
        assert check.is_enabled("tenant-1") is False
        assert check.is_enabled("tenant-2") is False
        assert time.monotonic() - started < 1.0, "only the first check may wait for the first snapshot"
    finally:
        check.close()


def test_the_module_level_cached_check_is_configured_and_closed(flags_database_url: str, flags_conn: Conn) -> None:
    tenant = add_tenants(flags_conn, 1)[0]
    flags.enable_tenant_for_v2(flags_conn, tenant, "test")
    flags.update_rollout_percentage(flags_conn, 0, "test")
    check = flags.configure_cached_check(flags_database_url, ttl=5)
    try:
        assert flags.should_use_voice_agent_v2_cached(tenant) is True
        assert flags.should_use_voice_agent_v2(flags_conn, tenant) is True
        assert flags.should_use_voice_agent_v2_cached("someone-else") is False
    finally:
        flags.close_cached_check()
    check.close()  # closing twice is harmless
    assert flags._default_check is None
