"""The flag tables and functions in PostgreSQL: the bucket, the rollout rule, invariants, security, downgrade."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import add_tenants, settings_for
from tests.helpers import wait_for_lock_waiters
from voice_migration import flags
from voice_migration.migration import revisions
from voice_migration.rollout import changes as rollout
from voice_migration.rollout.cache import FlagSnapshot, bucket

Conn = psycopg.Connection[tuple[object, ...]]

# Any string PostgreSQL can store in a UTF8 text column: every code point but NUL and lone surrogates.
tenant_ids = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
DB_EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def enabled_tenants(conn: Conn) -> set[str]:
    return {str(row[0]) for row in conn.execute("SELECT id FROM tenants WHERE voice_agent_v2_enabled(id)")}


@DB_EXAMPLES
@given(tenant_id=tenant_ids)
def test_python_and_sql_buckets_agree_for_any_string(flags_conn: Conn, tenant_id: str) -> None:
    row = flags_conn.execute("SELECT voice_agent_v2_bucket(%s)", (tenant_id,)).fetchone()
    assert row == (bucket(tenant_id),)
    # The documented formula itself, so a change to `bucket` cannot drift from DESIGN.md section 5.
    assert bucket(tenant_id) == int(hashlib.md5(tenant_id.encode(), usedforsecurity=False).hexdigest()[:8], 16) % 100


@DB_EXAMPLES
@given(
    enabled=st.booleans(),
    percentage=st.integers(0, 100),
    overrides=st.dictionaries(tenant_ids, st.booleans(), max_size=4),
    probes=st.lists(tenant_ids, max_size=6),
)
def test_the_cached_rule_decides_like_the_sql_function(
    flags_conn: Conn, enabled: bool, percentage: int, overrides: dict[str, bool], probes: list[str]
) -> None:
    with flags_conn.transaction(force_rollback=True):
        flags_conn.execute(
            "UPDATE voice_agent_v2_flags SET enabled = %s, rollout_percentage = %s", (enabled, percentage)
        )
        for tenant_id, value in overrides.items():
            flags_conn.execute(
                "INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES (%s, %s)", (tenant_id, value)
            )
        snapshot = FlagSnapshot(enabled, percentage, overrides, 0.0)
        for tenant_id in [*probes, *overrides]:
            row = flags_conn.execute("SELECT voice_agent_v2_enabled(%s)", (tenant_id,)).fetchone()
            assert row == (snapshot.is_enabled(tenant_id),), tenant_id


def test_enabled_uses_the_same_bucket_as_the_bucket_function(flags_conn: Conn) -> None:
    # voice_agent_v2_enabled inlines the bucket formula for speed; on 2,000 tenants it must pick the same ones.
    add_tenants(flags_conn, 2000)
    flags.update_rollout_percentage(flags_conn, 37, "test")
    mismatches = flags_conn.execute(
        "SELECT count(*) FROM tenants WHERE voice_agent_v2_enabled(id) <> (voice_agent_v2_bucket(id) < 37)"
    ).fetchone()
    assert mismatches == (0,)
    assert 600 < len(enabled_tenants(flags_conn)) < 880  # ~37 % of 2,000: the buckets spread


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=st.integers(0, 100), high=st.integers(0, 100), overridden=st.lists(st.booleans(), max_size=30))
def test_raising_the_percentage_never_removes_a_tenant_and_lowering_never_adds_one(
    flags_conn: Conn, low: int, high: int, overridden: list[bool]
) -> None:
    low, high = min(low, high), max(low, high)
    if flags_conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,):
        add_tenants(flags_conn, 300)
    flags_conn.execute("DELETE FROM voice_agent_v2_tenant_overrides")
    for number, value in enumerate(overridden, start=1):
        flags.set_tenant_override(flags_conn, f"tenant-{number * 7}", value, "test", reason=None, action="test")
    flags.update_rollout_percentage(flags_conn, low, "test")
    at_low = enabled_tenants(flags_conn)
    flags.update_rollout_percentage(flags_conn, high, "test")
    at_high = enabled_tenants(flags_conn)
    assert at_low <= at_high, "raising the percentage moved tenants back to v1"
    if high > low:
        rollout.rollback_partial(flags_conn, low, "test")
        assert enabled_tenants(flags_conn) == at_low, "lowering again must give back exactly the smaller set"


def test_master_switch_off_beats_every_override(flags_conn: Conn) -> None:
    add_tenants(flags_conn, 50)
    flags.update_rollout_percentage(flags_conn, 100, "test")
    flags.enable_tenant_for_v2(flags_conn, "tenant-3", "test")
    assert len(enabled_tenants(flags_conn)) == 50
    rollout.rollback_total(flags_conn, "incident 42", "test")
    assert enabled_tenants(flags_conn) == set()
    row = flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-3'), voice_agent_v2_enabled(NULL)").fetchone()
    assert row == (False, False)


def filter_bits(conn: Conn, tenant_id: str) -> bool:
    """True when every bit of ``tenant_id`` is set in the flags row's override filter."""
    row = conn.execute(
        "SELECT (f.override_filter & voice_agent_v2_override_bits(%s)) = voice_agent_v2_override_bits(%s) "
        "FROM voice_agent_v2_flags AS f",
        (tenant_id, tenant_id),
    ).fetchone()
    return bool(row and row[0])


def test_overrides_are_honoured_for_every_tenant_when_many_are_overridden(flags_conn: Conn) -> None:
    # 600 overrides among 3,000 tenants: the override filter of the function must let every one through
    # (the function inlines the filter positions of voice_agent_v2_override_bits; a drift between the two
    # would drop overrides here), and tenants without one still follow their bucket.
    tenants = add_tenants(flags_conn, 3000)
    overrides = {tenant: number % 3 == 0 for number, tenant in enumerate(tenants[::5])}
    flags_conn.execute(
        "INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) SELECT * FROM unnest(%s::text[], %s::bool[])",
        (list(overrides), list(overrides.values())),
    )
    flags.update_rollout_percentage(flags_conn, 37, "test")
    snapshot = FlagSnapshot(True, 37, overrides, 0.0)
    assert enabled_tenants(flags_conn) == {t for t in tenants if snapshot.is_enabled(t)}
    assert all(filter_bits(flags_conn, tenant) for tenant in overrides)
    set_bits = flags_conn.execute(
        "SELECT length(replace(override_filter::text, '0', '')) FROM voice_agent_v2_flags"
    ).fetchone()
    assert set_bits is not None and 1000 < int(set_bits[0]) <= 1800  # 3 bits per override, a few shared


def test_the_override_filter_only_grows_and_is_neither_stamped_nor_audited(flags_conn: Conn) -> None:
    add_tenants(flags_conn, 20)
    flags.update_rollout_percentage(flags_conn, 0, "test")
    flags_conn.execute("UPDATE voice_agent_v2_flags SET enabled = true")
    before = flags_conn.execute("SELECT updated_at, updated_by, step_started_at FROM voice_agent_v2_flags").fetchone()
    audited = flags_conn.execute("SELECT count(*) FROM voice_agent_v2_flag_audit WHERE level = 'global'").fetchone()
    assert not filter_bits(flags_conn, "tenant-7")
    flags_conn.execute("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-7', true)")
    assert filter_bits(flags_conn, "tenant-7")
    assert flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-7')").fetchone() == (True,)
    # The filter is bookkeeping: the flags row keeps its who/when and no global audit entry appears.
    assert (
        flags_conn.execute("SELECT updated_at, updated_by, step_started_at FROM voice_agent_v2_flags").fetchone()
        == before
    )
    assert (
        flags_conn.execute("SELECT count(*) FROM voice_agent_v2_flag_audit WHERE level = 'global'").fetchone()
        == audited
    )
    # Removing the override leaves its bits ("maybe"): the bucket decides again (0 % -> v1).
    flags_conn.execute("DELETE FROM voice_agent_v2_tenant_overrides WHERE tenant_id = 'tenant-7'")
    assert filter_bits(flags_conn, "tenant-7")
    assert flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-7')").fetchone() == (False,)
    # Clearing the filter by hand cannot make the function ignore an override: old bits are kept.
    flags_conn.execute("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-9', true)")
    flags_conn.execute("UPDATE voice_agent_v2_flags SET override_filter = B'0'::bit(8192)")
    assert filter_bits(flags_conn, "tenant-9")
    assert flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-9')").fetchone() == (True,)


def test_the_flags_row_stays_on_one_page_however_often_it_changes(flags_conn: Conn) -> None:
    # The function scans the flags table on every call: its row (1 KB of override filter included) must
    # be small enough that updates stay HOT and pruned, or every change would add a page to each call.
    for step in range(60):
        flags_conn.execute("UPDATE voice_agent_v2_flags SET rollout_percentage = %s", (step % 50,))
    assert flags_conn.execute("SELECT pg_relation_size('voice_agent_v2_flags')").fetchone() == (8192,)


def test_concurrent_override_inserts_both_reach_the_filter(flags_database_url: str, flags_conn: Conn) -> None:
    add_tenants(flags_conn, 10)
    flags_conn.execute("UPDATE voice_agent_v2_flags SET enabled = true")
    with psycopg.connect(flags_database_url) as first:
        first.execute("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-1', true)")

        def insert_second() -> None:
            with psycopg.connect(flags_database_url, autocommit=True) as second:
                second.execute(
                    "INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-2', true)"
                )

        thread = threading.Thread(target=insert_second)
        thread.start()
        # the second insert's filter update waits for the first's flags row lock
        assert wait_for_lock_waiters(flags_conn, 1) == 1, "the second writer should wait for the flags row"
        first.commit()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert filter_bits(flags_conn, "tenant-1") and filter_bits(flags_conn, "tenant-2")
    assert flags_conn.execute(
        "SELECT voice_agent_v2_enabled('tenant-1'), voice_agent_v2_enabled('tenant-2')"
    ).fetchone() == (True, True)


def test_the_flags_table_holds_exactly_one_row_within_0_to_100(flags_conn: Conn) -> None:
    assert flags_conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchall() == [(False, 0)]
    with pytest.raises(psycopg.errors.UniqueViolation):
        flags_conn.execute("INSERT INTO voice_agent_v2_flags (enabled, rollout_percentage) VALUES (true, 5)")
    with pytest.raises(psycopg.errors.CheckViolation):
        flags_conn.execute("INSERT INTO voice_agent_v2_flags (singleton) VALUES (false)")
    for bad in (-1, 101):
        with pytest.raises(psycopg.errors.CheckViolation):
            flags_conn.execute("UPDATE voice_agent_v2_flags SET rollout_percentage = %s", (bad,))
    for statement in ("DELETE FROM voice_agent_v2_flags", "TRUNCATE voice_agent_v2_flags"):
        with pytest.raises(psycopg.errors.RestrictViolation, match="rollback --level total"):
            flags_conn.execute(statement)
    assert flags_conn.execute("SELECT count(*) FROM voice_agent_v2_flags").fetchone() == (1,)


def test_the_audit_is_append_only_and_records_changes_made_by_hand(flags_conn: Conn) -> None:
    flags_conn.execute("UPDATE voice_agent_v2_flags SET rollout_percentage = 20")
    entry = flags_conn.execute(
        "SELECT action, changed_by, old_value, new_value FROM voice_agent_v2_flag_audit ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert entry == (
        "sql",
        "postgres",
        {"enabled": False, "rollout_percentage": 0},
        {"enabled": False, "rollout_percentage": 20},
    )
    for statement in (
        "UPDATE voice_agent_v2_flag_audit SET reason = 'rewritten'",
        "DELETE FROM voice_agent_v2_flag_audit",
        "TRUNCATE voice_agent_v2_flag_audit",
    ):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            flags_conn.execute(statement)
    with pytest.raises(psycopg.errors.RestrictViolation, match="audited"):
        flags_conn.execute("TRUNCATE voice_agent_v2_tenant_overrides")
    assert flags_conn.execute("SELECT count(*) FROM voice_agent_v2_flag_audit").fetchone() == (2,)


def test_every_flag_function_pins_its_search_path_and_the_rule_is_stable_and_invoker(flags_conn: Conn) -> None:
    functions = dict(
        flags_conn.execute(
            "SELECT proname, array_to_string(proconfig, ',') FROM pg_proc "
            "WHERE proname LIKE 'voice_agent_v2%' AND pronamespace = 'public'::regnamespace"
        ).fetchall()
    )
    assert {"voice_agent_v2_bucket", "voice_agent_v2_enabled"} <= set(functions)
    assert all("search_path=" in str(config) for config in functions.values()), functions
    row = flags_conn.execute(
        "SELECT provolatile, prosecdef FROM pg_proc WHERE proname = 'voice_agent_v2_enabled'"
    ).fetchone()
    assert row == ("s", False)


@pytest.fixture()
def temporary_role(flags_conn: Conn) -> Iterator[str]:
    """A role with no grants at all (like Supabase's ``anon`` before anyone grants it anything)."""
    role = f"vm_test_{uuid.uuid4().hex[:10]}"
    flags_conn.execute(psycopg.sql.SQL("CREATE ROLE {} NOLOGIN").format(psycopg.sql.Identifier(role)))
    try:
        yield role
    finally:
        flags_conn.execute("RESET ROLE")
        flags_conn.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(psycopg.sql.Identifier(role)))
        flags_conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(role)))


FLAG_TABLES = ("voice_agent_v2_flags", "voice_agent_v2_tenant_overrides", "voice_agent_v2_flag_audit")


def test_a_role_without_grants_reads_nothing(flags_conn: Conn, temporary_role: str) -> None:
    add_tenants(flags_conn, 1)
    flags.enable_tenant_for_v2(flags_conn, "tenant-1", "test")
    flags_conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(temporary_role)))
    for table in FLAG_TABLES:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            flags_conn.execute(psycopg.sql.SQL("SELECT * FROM {}").format(psycopg.sql.Identifier(table)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-1')")


def test_row_level_security_hides_every_row_from_a_role_granted_select_but_no_policy(
    flags_conn: Conn, temporary_role: str
) -> None:
    # Supabase grants anon/authenticated SELECT on new tables by default: RLS must still hide the rows.
    add_tenants(flags_conn, 1)
    flags.update_rollout_percentage(flags_conn, 100, "test")
    flags.enable_tenant_for_v2(flags_conn, "tenant-1", "test")
    role = psycopg.sql.Identifier(temporary_role)
    for table in FLAG_TABLES:
        flags_conn.execute(psycopg.sql.SQL("GRANT SELECT ON {} TO {}").format(psycopg.sql.Identifier(table), role))
    flags_conn.execute(psycopg.sql.SQL("GRANT EXECUTE ON FUNCTION voice_agent_v2_enabled(text) TO {}").format(role))
    flags_conn.execute(psycopg.sql.SQL("SET ROLE {}").format(role))
    for table in FLAG_TABLES:
        count = flags_conn.execute(
            psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))
        ).fetchone()
        assert count == (0,), table
    # Seeing no flags row, the rule answers v1: the safe side.
    assert flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-1')").fetchone() == (False,)


def test_the_documented_grants_let_an_application_role_ask_the_rule(flags_conn: Conn, temporary_role: str) -> None:
    add_tenants(flags_conn, 1)
    flags.enable_tenant_for_v2(flags_conn, "tenant-1", "test")
    flags.update_rollout_percentage(flags_conn, 0, "test")
    role = psycopg.sql.Identifier(temporary_role)
    # The recipe of docs/rollout.md, "Grants", verbatim but for the role name.
    for statement in (
        "GRANT EXECUTE ON FUNCTION voice_agent_v2_enabled(text), voice_agent_v2_bucket(text) TO {role}",
        "GRANT SELECT ON voice_agent_v2_flags, voice_agent_v2_tenant_overrides TO {role}",
        "CREATE POLICY voice_agent_v2_flags_read ON voice_agent_v2_flags FOR SELECT TO {role} USING (true)",
        "CREATE POLICY voice_agent_v2_overrides_read ON voice_agent_v2_tenant_overrides "
        "FOR SELECT TO {role} USING (true)",
    ):
        flags_conn.execute(psycopg.sql.SQL(statement).format(role=role))
    flags_conn.execute(psycopg.sql.SQL("SET ROLE {}").format(role))
    assert flags_conn.execute("SELECT voice_agent_v2_enabled('tenant-1')").fetchone() == (True,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        flags_conn.execute("SELECT * FROM voice_agent_v2_flag_audit")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        flags_conn.execute("UPDATE voice_agent_v2_flags SET rollout_percentage = 100")


def test_downgrade_keeps_the_flags_overrides_and_audit_and_says_where(v1_database_url: str) -> None:
    settings = settings_for(v1_database_url)
    revisions.upgrade(settings, "0002_v2_flags")
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        add_tenants(conn, 2)
        flags.update_rollout_percentage(conn, 25, "ann", reason="day 3")
        flags.disable_tenant_for_v2(conn, "tenant-2", "ann", reason="noisy")
    printed = revisions.downgrade(settings, "0001_v1_baseline")
    assert "voice_migration.downgrade_archive_v2_flag_audit" in printed
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('public.voice_agent_v2_flags')").fetchone() == (None,)
        assert conn.execute(
            "SELECT rollout_percentage, updated_by FROM voice_migration.downgrade_archive_v2_flags"
        ).fetchall() == [(25, "ann")]
        assert conn.execute(
            "SELECT tenant_id, enabled, reason FROM voice_migration.downgrade_archive_v2_tenant_overrides"
        ).fetchall() == [("tenant-2", False, "noisy")]
        actions = conn.execute(
            "SELECT action FROM voice_migration.downgrade_archive_v2_flag_audit ORDER BY id"
        ).fetchall()
        assert [a for (a,) in actions] == ["install", "set_percentage", "disable_tenant"]
    revisions.upgrade(settings, "0002_v2_flags")  # and back up again: a fresh, disabled flags row
    with psycopg.connect(v1_database_url) as conn:
        assert conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchone() == (False, 0)
