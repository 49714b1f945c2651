"""The quarantine hold (issue #15 point 1): a tenant with a config v2 cannot read is served v1.

The held set ``public.voice_agent_v2_held_tenants`` is kept by statement triggers on the configs; the SQL
rule, the direct check and the cached check all read it, and a fixed config lifts the hold by itself.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import add_calls, add_tenants, settings_for
from tests.helpers import run_cli
from voice_migration import flags
from voice_migration.migration.revisions import downgrade, upgrade
from voice_migration.rollout.cache import CachedFlagCheck, load_snapshot

Conn = psycopg.Connection[tuple[object, ...]]

HELD_DRIFT = """
SELECT coalesce(a.tenant_id, h.tenant_id), a.configs, h.configs
  FROM (SELECT tenant_id, count(*)::integer AS configs FROM voice_agent_configs
         WHERE schema_version IS DISTINCT FROM 'v2' AND tenant_id IS NOT NULL GROUP BY tenant_id) AS a
  FULL JOIN voice_agent_v2_held_tenants AS h ON h.tenant_id = a.tenant_id
 WHERE a.configs IS DISTINCT FROM h.configs
"""


@pytest.fixture()
def head_conn(head_database_url: str) -> Conn:
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        yield conn  # type: ignore[misc]


def add_config(conn: Conn, config_id: str, tenant_id: str, *, voice_id: str | None = "voice-1") -> None:
    """A config written by a v1 application; without a voice_id the dual-write trigger quarantines it."""
    conn.execute(
        "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
        "VALUES (%s, %s, 'Agent', 'Hola, agenda citas', %s, 'es-MX', true)",
        (config_id, tenant_id, voice_id),
    )


def held(conn: Conn) -> dict[str, int]:
    return {str(t): int(c) for t, c in conn.execute("SELECT tenant_id, configs FROM voice_agent_v2_held_tenants")}  # type: ignore[call-overload]


def enabled(conn: Conn, tenant_id: str) -> bool:
    row = conn.execute("SELECT voice_agent_v2_enabled(%s)", (tenant_id,)).fetchone()
    return bool(row and row[0])


def test_a_tenant_with_a_quarantined_config_is_served_v1_at_100_percent(head_conn: Conn) -> None:
    add_tenants(head_conn, 3)
    add_config(head_conn, "c1", "tenant-1")
    add_config(head_conn, "c2", "tenant-2")
    add_config(head_conn, "c3", "tenant-2", voice_id=None)  # quarantined: no voice_id
    flags.update_rollout_percentage(head_conn, 100, "ann")

    assert held(head_conn) == {"tenant-2": 1}
    assert enabled(head_conn, "tenant-1") and enabled(head_conn, "tenant-3")
    assert not enabled(head_conn, "tenant-2")
    assert not flags.should_use_voice_agent_v2(head_conn, "tenant-2")
    snapshot = load_snapshot(head_conn)
    assert snapshot.held == frozenset({"tenant-2"})
    assert [snapshot.is_enabled(t) for t in ("tenant-1", "tenant-2", "tenant-3")] == [True, False, True]


def test_an_override_still_beats_the_hold(head_conn: Conn) -> None:
    add_tenants(head_conn, 1)
    add_config(head_conn, "c1", "tenant-1", voice_id=None)
    flags.update_rollout_percentage(head_conn, 100, "ann")
    head_conn.execute("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-1', true)")
    assert enabled(head_conn, "tenant-1")
    assert load_snapshot(head_conn).is_enabled("tenant-1")


def test_fixing_the_v1_row_lifts_the_hold_and_notifies_the_caches(head_database_url: str, head_conn: Conn) -> None:
    add_tenants(head_conn, 1)
    add_config(head_conn, "c1", "tenant-1", voice_id=None)
    add_config(head_conn, "c2", "tenant-1", voice_id=None)
    flags.update_rollout_percentage(head_conn, 100, "ann")
    with CachedFlagCheck(settings_for(head_database_url), ttl=60) as check:
        assert not check.is_enabled("tenant-1")
        with psycopg.connect(head_database_url, autocommit=True) as listener:
            listener.execute("LISTEN voice_agent_v2_flags")
            head_conn.execute("UPDATE voice_agent_configs SET voice_id = 'voice-9' WHERE id = 'c1'")
            assert held(head_conn) == {"tenant-1": 1}  # one config still quarantined
            assert list(listener.notifies(timeout=0.5, stop_after=1)) == []  # the set did not change
            head_conn.execute("UPDATE voice_agent_configs SET voice_id = 'voice-9' WHERE id = 'c2'")
            payloads = [n.payload for n in listener.notifies(timeout=5, stop_after=2)]
        # The set's own NOTIFY, and the flags row's (its held filter changed), both at commit.
        assert sorted(payloads) == ["voice_agent_v2_flags", "voice_agent_v2_held_tenants"]
        assert held(head_conn) == {}
        assert enabled(head_conn, "tenant-1")
        deadline = time.monotonic() + 5
        while not check.is_enabled("tenant-1") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert check.is_enabled("tenant-1")


def test_every_kind_of_write_keeps_the_set_exact(head_conn: Conn) -> None:
    add_tenants(head_conn, 3)
    head_conn.execute(
        "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
        "SELECT 'c' || g, 'tenant-' || (g % 3 + 1), 'Agent', 'Hola', CASE WHEN g % 4 = 0 THEN NULL ELSE 'v' END, "
        "'es', true FROM generate_series(1, 40) AS g"
    )
    assert head_conn.execute(HELD_DRIFT).fetchall() == []
    assert sum(held(head_conn).values()) == 10
    # A tenant_id change moves the count; deleting removes it; a multi-row fix releases many.
    head_conn.execute("UPDATE voice_agent_configs SET tenant_id = 'tenant-3' WHERE id IN ('c4', 'c8')")
    assert head_conn.execute(HELD_DRIFT).fetchall() == []
    head_conn.execute("DELETE FROM voice_agent_configs WHERE id = 'c12'")
    assert head_conn.execute(HELD_DRIFT).fetchall() == []
    head_conn.execute("UPDATE voice_agent_configs SET voice_id = 'v' WHERE id IN ('c16', 'c20', 'c24')")
    assert head_conn.execute(HELD_DRIFT).fetchall() == []
    head_conn.execute("UPDATE voice_agent_configs SET tenant_id = NULL WHERE id = 'c28'")
    assert head_conn.execute(HELD_DRIFT).fetchall() == []
    head_conn.execute("TRUNCATE voice_agent_configs")
    assert held(head_conn) == {}


# The held filter as refresh_held_filter defines it, recomputed here from the set (exact up to 5,000 held).
EXACT_FILTER = """
SELECT coalesce(bit_or(set_bit(set_bit(set_bit(repeat('0', 4096)::bit(4096), ((p >> 24) & 4095)::int, 1),
                                       ((p >> 12) & 4095)::int, 1), (p & 4095)::int, 1)),
                repeat('0', 4096)::bit(4096)) = (SELECT held_filter FROM voice_agent_v2_flags)
  FROM (SELECT ('x' || substr(md5(tenant_id), 21, 12))::bit(48)::bigint AS p FROM voice_agent_v2_held_tenants) AS b
"""

# DESIGN.md section 5 written out: master off -> false; override; held -> false; bucket < percentage.
RULE_DISAGREES = """
SELECT count(*) FROM tenants AS t CROSS JOIN voice_agent_v2_flags AS f
 WHERE voice_agent_v2_enabled(t.id) IS DISTINCT FROM (CASE
       WHEN NOT f.enabled THEN false
       WHEN EXISTS (SELECT FROM voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = t.id)
            THEN (SELECT o.enabled FROM voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = t.id)
       WHEN EXISTS (SELECT FROM voice_agent_v2_held_tenants AS h WHERE h.tenant_id = t.id) THEN false
       ELSE voice_agent_v2_bucket(t.id) < f.rollout_percentage END)
"""


def test_the_held_filter_follows_the_set_and_is_bookkeeping_not_a_flag_change(head_conn: Conn) -> None:
    flags.update_rollout_percentage(head_conn, 100, "ann")
    nothing = head_conn.execute(
        "SELECT held_filter = repeat('0', 4096)::bit(4096) FROM voice_agent_v2_flags"
    ).fetchone()
    assert nothing == (True,), "no held tenant: no bit set, so voice_agent_v2_enabled never probes the set"
    add_tenants(head_conn, 2_000)
    head_conn.execute(
        "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
        "SELECT 'c' || g, 'tenant-' || g, 'Agent', 'Hola', CASE WHEN g % 7 = 0 THEN NULL ELSE 'v' END, 'es', true "
        "FROM generate_series(1, 2000) AS g"
    )
    head_conn.execute(
        "INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) "
        "SELECT 'tenant-' || g, g % 2 = 0 FROM generate_series(1, 2000, 49) AS g"
    )
    assert len(held(head_conn)) == 285
    assert head_conn.execute(EXACT_FILTER).fetchone() == (True,)
    assert head_conn.execute(RULE_DISAGREES).fetchone() == (0,)
    flags.update_rollout_percentage(head_conn, 40, "ann")
    assert head_conn.execute(RULE_DISAGREES).fetchone() == (0,)
    stamp = (
        "SELECT updated_at, updated_by, step_started_at, (SELECT max(id) FROM voice_agent_v2_flag_audit) "
        "FROM voice_agent_v2_flags"
    )
    before = head_conn.execute(stamp).fetchone()
    # Leaving clears bits (unlike the override filter): fix the held configs of some tenants.
    head_conn.execute("UPDATE voice_agent_configs SET voice_id = 'v' WHERE voice_id IS NULL AND tenant_id < 'tenant-5'")
    assert 0 < len(held(head_conn)) < 285
    assert head_conn.execute(EXACT_FILTER).fetchone() == (True,)
    assert head_conn.execute(RULE_DISAGREES).fetchone() == (0,)
    # Above 5,000 held tenants the filter is all ones (it would be anyway): every tenant probes, still exact.
    head_conn.execute(
        "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
        "SELECT 'm' || g, 'tenant-' || g, 'Agent', 'Hola', NULL, 'es', true FROM generate_series(2001, 8000) AS g"
    )
    full = head_conn.execute("SELECT held_filter = repeat('1', 4096)::bit(4096) FROM voice_agent_v2_flags").fetchone()
    assert full == (True,)
    assert head_conn.execute(RULE_DISAGREES).fetchone() == (0,)
    head_conn.execute("DELETE FROM voice_agent_configs WHERE id LIKE 'm%'")
    assert head_conn.execute(EXACT_FILTER).fetchone() == (True,)
    # None of those filter updates was a flag change: no audit row, no new stamp, the step clock kept.
    assert head_conn.execute(stamp).fetchone() == before


def test_refresh_repairs_a_set_written_with_triggers_off_and_keeps_held_since(head_conn: Conn) -> None:
    add_tenants(head_conn, 2)
    add_config(head_conn, "c1", "tenant-1", voice_id=None)
    since = head_conn.execute("SELECT held_since FROM voice_agent_v2_held_tenants").fetchone()
    with head_conn.transaction():
        head_conn.execute("SET LOCAL session_replication_role = replica")
        head_conn.execute("UPDATE voice_agent_configs SET tenant_id = 'tenant-2' WHERE id = 'c1'")
        add_config(head_conn, "c2", "tenant-1", voice_id=None)
    assert head_conn.execute(HELD_DRIFT).fetchall() != []
    assert head_conn.execute("SELECT voice_migration.refresh_held_tenants()").fetchone() == (1,)
    assert head_conn.execute(HELD_DRIFT).fetchall() == []
    assert (
        head_conn.execute("SELECT held_since FROM voice_agent_v2_held_tenants WHERE tenant_id = 'tenant-1'").fetchone()
        == since
    )


def test_before_the_backfill_every_tenant_is_held_and_the_backfill_releases_them(v1_database_url: str) -> None:
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        add_tenants(conn, 4)
        conn.execute(
            "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
            "SELECT 'c' || g, 'tenant-' || (g % 4 + 1), 'Agent', 'Hola', CASE WHEN g = 1 THEN NULL ELSE 'v' END, "
            "'es', true FROM generate_series(1, 20) AS g"
        )
    settings = settings_for(v1_database_url)
    upgrade(settings, "0008_quarantine_hold")  # 0004 runs the whole backfill
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        assert held(conn) == {"tenant-2": 1}
        downgrade(settings, "0007_live_safety")
        assert conn.execute("SELECT to_regclass('public.voice_agent_v2_held_tenants')").fetchone() == (None,)
        conn.execute("UPDATE voice_agent_configs SET schema_version = NULL WHERE id IN ('c2', 'c3')")
        upgrade(settings, "head")
        assert held(conn) == {"tenant-2": 1, "tenant-3": 1, "tenant-4": 1}
        conn.execute("DELETE FROM voice_migration.backfill_progress")
        conn.execute("CALL voice_migration.backfill(1)")
        assert held(conn) == {"tenant-2": 1}


def test_downgrade_reinstalls_the_released_rule(head_database_url: str) -> None:
    settings = settings_for(head_database_url)
    downgrade(settings, "0007_live_safety")
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        source = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'voice_agent_v2_enabled'").fetchone()
        assert source is not None and "held" not in str(source[0])
        assert conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'voice_agent_configs_held%'"
        ).fetchone() == (0,)


def test_enable_tenant_refuses_a_held_tenant_naming_its_configs_and_force_is_audited(
    head_database_url: str, head_conn: Conn
) -> None:
    add_tenants(head_conn, 2)
    add_config(head_conn, "c1", "tenant-1", voice_id=None)
    add_config(head_conn, "c2", "tenant-1")
    flags.update_rollout_percentage(head_conn, 100, "ann")

    refused = run_cli(["rollout", "enable-tenant", "tenant-1", "--by", "ann"], database_url=head_database_url)
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "held on v1" in refused.stderr and "c1 (" in refused.stderr and "voice_id" in refused.stderr
    assert "c2" not in refused.stderr
    assert head_conn.execute("SELECT count(*) FROM voice_agent_v2_tenant_overrides").fetchone() == (0,)

    forced = run_cli(
        ["rollout", "enable-tenant", "tenant-1", "--by", "ann", "--force", "--reason", "pilot"],
        database_url=head_database_url,
    )
    assert forced.returncode == 0, forced.stderr
    assert enabled(head_conn, "tenant-1")
    action, reason = head_conn.execute(
        "SELECT action, reason FROM voice_agent_v2_flag_audit WHERE tenant_id = 'tenant-1' ORDER BY id DESC LIMIT 1"
    ).fetchone() or (None, None)
    assert action == "enable_tenant_forced"
    assert "pilot" in str(reason) and "FORCED past the quarantine hold: c1" in str(reason)
    assert (
        run_cli(["rollout", "enable-tenant", "tenant-2", "--by", "ann"], database_url=head_database_url).returncode == 0
    )


def test_status_and_advance_report_the_held_tenants(head_database_url: str, head_conn: Conn) -> None:
    add_tenants(head_conn, 3)
    add_config(head_conn, "c1", "tenant-1", voice_id=None)
    add_config(head_conn, "c2", "tenant-1", voice_id=None)
    add_config(head_conn, "c3", "tenant-2", voice_id=None)
    status = run_cli(["rollout", "status"], database_url=head_database_url)
    assert status.returncode == 0, status.stderr
    assert "2 tenants held on v1 by 3 configs in quarantine: tenant-1 (2), tenant-2 (1)" in status.stdout
    assert flags.get_rollout_status(head_conn).as_dict()["held"] == {
        "tenants": 2,
        "configs": 3,
        "first": [{"tenant_id": "tenant-1", "configs": 2}, {"tenant_id": "tenant-2", "configs": 1}],
    }
    advance = run_cli(["rollout", "advance", "--by", "ann"], database_url=head_database_url)
    assert advance.returncode == 0, advance.stderr
    assert "2 tenants held on v1 by 3 configs in quarantine" in advance.stdout


def test_v2_calls_not_marked_v2_warn_in_status_and_stop_advance(head_database_url: str, head_conn: Conn) -> None:
    add_tenants(head_conn, 2)
    flags.update_rollout_percentage(head_conn, 50, "ann")
    head_conn.execute("UPDATE voice_agent_v2_flags SET step_started_at = now() - interval '3 days'")
    add_calls(head_conn, "v1", 500)  # the v2 application writes its calls as 'v1' (the column default)
    status = run_cli(["rollout", "status"], database_url=head_database_url)
    assert status.returncode == 0
    assert "warning:" in status.stdout and "not marking its calls" in status.stdout
    advance = run_cli(["rollout", "advance", "--by", "ann"], database_url=head_database_url)
    assert advance.returncode == 1
    assert "the v2 application is not marking its calls" in advance.stderr
    assert len(advance.stderr.strip().splitlines()) == 1
    add_calls(head_conn, "v2", 500)
    status = run_cli(["rollout", "status"], database_url=head_database_url)
    assert "not marking" not in status.stdout


def test_no_attribution_refusal_when_no_tenant_is_on_v2(head_database_url: str, head_conn: Conn) -> None:
    # Every tenant of the step is held: v2 serves nobody, so there are no v2 calls to mark.
    add_tenants(head_conn, 2)
    add_config(head_conn, "c1", "tenant-1", voice_id=None)
    add_config(head_conn, "c2", "tenant-2", voice_id=None)
    flags.update_rollout_percentage(head_conn, 50, "ann")
    head_conn.execute("UPDATE voice_agent_v2_flags SET step_started_at = now() - interval '3 days'")
    add_calls(head_conn, "v1", 500)
    advance = run_cli(["rollout", "advance", "--by", "ann"], database_url=head_database_url)
    assert advance.returncode == 1 and "enough calls" in advance.stderr  # refused, for the real reason
    assert "not marking its calls" not in advance.stdout + advance.stderr
    status = run_cli(["rollout", "status"], database_url=head_database_url)
    assert "not marking" not in status.stdout and "2 tenants held on v1" in status.stdout
