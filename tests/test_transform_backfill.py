"""The backfill on seeded v1 data: lossless downgrade, honest re-runs, resume after SIGKILL, dual-write,
offline SQL, lock and statement timeouts, the guarded sunset."""

from __future__ import annotations

import itertools
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from alembic import command
from tests.conftest import settings_for
from tests.helpers import v1_checksums
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.embedded import find_server_bindir
from voice_migration.infra.errors import LockTimeoutExhausted
from voice_migration.migration import revisions
from voice_migration.migration.backfill import pending_counts, phases, run_phase

Conn = psycopg.Connection[tuple[object, ...]]
SPEC = SeedSpec(tenants=4, configs=130, calls=3000, messy=True)

# Everything the transformation writes, without the timestamps that record when it ran.
V2_STATE = {
    "configs": "SELECT id, assistant_type, voice_config, personality, capabilities, schema_version, migrated_from "
    "FROM voice_agent_configs ORDER BY id",
    "calls": "SELECT id, outcome_code, outcome_source FROM voice_agent_calls ORDER BY id",
    "metrics": "SELECT config_id, tenant_id, total_calls, avg_duration_seconds, p50_latency_ms, p95_latency_ms, "
    "p99_latency_ms, outcome_counts, error_rate, first_call_at, last_call_at FROM voice_agent_metrics ORDER BY 1",
    "quarantine": "SELECT entity, entity_id, tenant_id, reason, detail, original_row FROM voice_migration.quarantine "
    "ORDER BY 1, 2, 4",
}


def v2_state(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(query.encode()).fetchall() for name, query in V2_STATE.items()}


def seed(url: str, spec: SeedSpec = SPEC) -> None:
    with psycopg.connect(url) as conn:
        seed_v1(conn, spec)


def upgrade(url: str, *, skip_backfill: bool = False) -> None:
    config = revisions.alembic_config(url)
    config.attributes["skip_backfill"] = skip_backfill
    command.upgrade(config, "head")


def run_all(conn: Conn, batch_size: int = 500, **kwargs: object) -> dict[str, int]:
    return {p: run_phase(conn, p, batch_size=batch_size, **kwargs).rows_changed for p, _ in phases(conn)}  # type: ignore[arg-type]


@pytest.fixture()
def seeded(v1_database_url: str) -> str:
    seed(v1_database_url)
    return v1_database_url


@pytest.fixture()
def migrated(seeded: str) -> str:
    upgrade(seeded)
    return seeded


@pytest.fixture()
def expanded(seeded: str) -> Iterator[str]:
    """Seeded, at head, but with the backfill left to run_phase."""
    upgrade(seeded, skip_backfill=True)
    yield seeded


def test_upgrade_then_downgrade_restores_every_v1_column_byte_identical(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        before = v1_checksums(conn)
    upgrade(seeded)
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'").fetchone() > (0,)
        conn.execute(
            "UPDATE voice_agent_configs SET voice_config = voice_config || '{\"speed\": 1.5}' "
            "WHERE schema_version = 'v2' AND id = (SELECT min(id) FROM voice_agent_configs "
            "WHERE schema_version = 'v2')"
        )
        conn.commit()
    printed = revisions.downgrade(settings_for(seeded), revisions.BASELINE_REVISION)
    assert "voice_migration.downgrade_archive_configs" in printed
    with psycopg.connect(seeded) as conn:
        assert v1_checksums(conn) == before
        archived = conn.execute(
            "SELECT count(*) FILTER (WHERE voice_config ? 'speed'), count(*) "
            "FROM voice_migration.downgrade_archive_configs"
        ).fetchone()
        assert archived is not None and archived[0] == 1 and archived[1] > 100
        assert conn.execute("SELECT count(*) FROM voice_migration.downgrade_archive_calls").fetchone() == (SPEC.calls,)


def test_row_counts_are_equal_and_bad_rows_are_quarantined_not_lost(seeded: str) -> None:
    with psycopg.connect(seeded) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM voice_agent_configs), (SELECT count(*) FROM voice_agent_calls)"
        )
        before = counts.fetchone()
    upgrade(seeded)
    with psycopg.connect(seeded) as conn:
        after = conn.execute(
            "SELECT (SELECT count(*) FROM voice_agent_configs), (SELECT count(*) FROM voice_agent_calls)"
        )
        assert after.fetchone() == before
        unmigrated = conn.execute(
            "SELECT count(*) FROM voice_agent_configs c WHERE schema_version IS NULL AND NOT EXISTS "
            "(SELECT FROM voice_migration.quarantine q WHERE q.entity = 'config' AND q.entity_id = c.id)"
        ).fetchone()
        assert unmigrated == (0,)
        reasons = {r[0] for r in conn.execute("SELECT DISTINCT reason FROM voice_migration.quarantine").fetchall()}
        assert reasons == {
            "missing_voice_id",
            "empty_prompt",
            "unknown_language",
            "missing_tenant",
            "missing_config",
            "tenant_mismatch",
        }
        assert conn.execute("SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL").fetchone() == (0,)


def test_metrics_equal_an_independent_percentile_cont_computation(migrated: str) -> None:
    independent = """
        SELECT g.id, g.tenant_id, count(*), avg(k.duration_seconds),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY k.latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY k.latency_ms),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY k.latency_ms),
               round(count(*) FILTER (WHERE lower(k.status) IN ('failed', 'error'))::numeric / count(*), 12),
               min(k.created_at), max(k.created_at)
        FROM voice_agent_configs g JOIN voice_agent_calls k ON k.config_id = g.id AND k.tenant_id = g.tenant_id
        GROUP BY g.id, g.tenant_id ORDER BY 1"""
    stored = """
        SELECT config_id, tenant_id, total_calls, avg_duration_seconds, p50_latency_ms, p95_latency_ms,
               p99_latency_ms, round(error_rate, 12), first_call_at, last_call_at
        FROM voice_agent_metrics ORDER BY 1"""
    with psycopg.connect(migrated) as conn:
        expected = conn.execute(independent).fetchall()
        assert len(expected) > 100
        assert conn.execute(stored).fetchall() == expected
        counts = conn.execute(
            "SELECT m.config_id FROM voice_agent_metrics m WHERE m.outcome_counts <> (SELECT jsonb_object_agg(o, n) "
            "FROM (SELECT outcome_code o, count(*) n FROM voice_agent_calls k WHERE k.config_id = m.config_id "
            "AND k.tenant_id = m.tenant_id GROUP BY 1) x)"
        ).fetchall()
        assert counts == []


def test_a_rerun_changes_nothing_and_rewrites_no_row(migrated: str) -> None:
    snapshot = (
        "SELECT (SELECT md5(string_agg(xmin::text || migrated_at::text, ',' ORDER BY id)) FROM voice_agent_configs),"
        " (SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM voice_agent_calls),"
        " (SELECT md5(string_agg(xmin::text || computed_at::text, ',' ORDER BY config_id)) FROM voice_agent_metrics)"
    )
    with psycopg.connect(migrated) as conn:
        before = conn.execute(snapshot).fetchone()
        assert pending_counts(conn) == {"configs": 0, "calls": 0, "metrics": 0}
        assert run_all(conn) == {"configs": 0, "calls": 0, "metrics": 0}
        assert conn.execute(snapshot).fetchone() == before


def test_a_backfill_killed_mid_way_and_rerun_equals_an_uninterrupted_run(expanded: str, database_url: str) -> None:
    script = textwrap.dedent(
        f"""
        import time, psycopg
        from voice_migration.migration.backfill import phases, run_phase
        with psycopg.connect({expanded!r}) as conn:
            for phase, _ in phases(conn):
                run_phase(conn, phase, batch_size=40, on_progress=lambda p, d, t: (print(p, d, flush=True),
                          time.sleep(0.05)))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("calls") and int(line.split()[1]) >= 400:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with psycopg.connect(expanded) as conn:
        progress = conn.execute(
            "SELECT phase, finished_at IS NOT NULL FROM voice_migration.backfill_progress ORDER BY phase"
        ).fetchall()
        assert ("calls", False) in progress, "the kill should land in the middle of the calls phase"
        assert conn.execute("SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL").fetchone() > (0,)
        run_all(conn)
    revisions.upgrade(settings_for(database_url), revisions.BASELINE_REVISION)
    seed(database_url)
    upgrade(database_url, skip_backfill=True)
    with psycopg.connect(database_url) as conn:
        run_all(conn, batch_size=1000)
    assert v2_state(expanded) == v2_state(database_url)


def test_offline_sql_applied_with_psql_equals_the_online_upgrade(seeded: str, database_url: str) -> None:
    bindir = find_server_bindir()
    psql = str(bindir / "psql") if bindir and (bindir / "psql").is_file() else shutil.which("psql")
    assert psql, "psql is needed for the offline path"
    revisions.upgrade(settings_for(database_url), revisions.BASELINE_REVISION)
    seed(database_url)
    offline = revisions.offline_sql("head", start=revisions.BASELINE_REVISION)
    assert "CALL voice_migration.backfill(5000)" in offline
    result = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database_url],
        input=offline,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    upgrade(seeded)
    assert v2_state(database_url) == v2_state(seeded)
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()


def test_dual_write_keeps_v1_and_v2_in_step_both_ways(head_database_url: str) -> None:
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id) VALUES ('t1')")
        conn.execute(
            "INSERT INTO voice_agent_configs (id, tenant_id, prompt, voice_id, language, enabled) "
            "VALUES ('c1', 't1', 'Hola', 'v1', 'es_MX', true)"
        )
        row = conn.execute("SELECT voice_config, schema_version FROM voice_agent_configs WHERE id = 'c1'").fetchone()
        assert row == ({"voice_id": "v1", "language": "es-MX"}, "v2")
        # v2 writer: speed, a new language and a new base prompt reach the v1 columns
        conn.execute(
            "UPDATE voice_agent_configs SET voice_config = voice_config || "
            '\'{"language": "en-US", "speed": 1.2}\', '
            "personality = jsonb_set(personality, '{base_prompt}', '\"Hello v2\"') WHERE id = 'c1'"
        )
        row = conn.execute("SELECT prompt, voice_id, language FROM voice_agent_configs WHERE id = 'c1'").fetchone()
        assert row == ("Hello v2", "v1", "en-US")
        # v1 writer: voice and prompt recomputed, the v2-only speed kept
        conn.execute("UPDATE voice_agent_configs SET voice_id = 'v7', prompt = 'Saludo: Hi!' WHERE id = 'c1'")
        row = conn.execute("SELECT voice_config, personality FROM voice_agent_configs WHERE id = 'c1'").fetchone()
        assert row == (
            {"voice_id": "v7", "language": "en-US", "speed": 1.2},
            {"base_prompt": "Saludo: Hi!", "greeting_message": "Hi!", "special_instructions": []},
        )
        # calls: a v1 status change re-infers; a v2 outcome is kept
        conn.execute(
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, status) VALUES ('k1', 't1', 'c1', 'busy')"
        )
        conn.execute("UPDATE voice_agent_calls SET status = 'no-answer' WHERE id = 'k1'")
        assert conn.execute("SELECT outcome_code FROM voice_agent_calls WHERE id = 'k1'").fetchone() == ("no_answer",)
        conn.execute("UPDATE voice_agent_calls SET outcome_code = 'order_placed' WHERE id = 'k1'")
        conn.execute("UPDATE voice_agent_calls SET transcript = 'later note' WHERE id = 'k1'")
        assert conn.execute(
            "SELECT outcome_code, outcome_source FROM voice_agent_calls WHERE id = 'k1'"
        ).fetchone() == ("order_placed", "manual")


def test_inserts_during_the_backfill_get_their_v2_values(expanded: str) -> None:
    inserted: list[str] = []

    def write_as_v1(phase: str, done: int, total: int) -> None:
        if inserted:
            return
        with psycopg.connect(expanded, autocommit=True) as writer:
            writer.execute(
                "INSERT INTO voice_agent_configs (id, tenant_id, prompt, voice_id, language) "
                "VALUES ('cfg_00000001x', 'tenant_000001', 'Hola', 'v1', 'es')"
            )
            writer.execute(
                "INSERT INTO voice_agent_calls (id, tenant_id, config_id, status) "
                "VALUES ('call_0000000001x', 'tenant_000001', 'cfg_00000001x', 'busy')"
            )
        inserted.append(phase)

    with psycopg.connect(expanded) as conn:
        for phase, _ in phases(conn):
            run_phase(conn, phase, batch_size=50, on_progress=write_as_v1)
        assert pending_counts(conn) == {"configs": 0, "calls": 0, "metrics": 0}
        assert conn.execute("SELECT schema_version FROM voice_agent_configs WHERE id = 'cfg_00000001x'").fetchone() == (
            "v2",
        )
        assert conn.execute("SELECT outcome_code FROM voice_agent_calls WHERE id = 'call_0000000001x'").fetchone() == (
            "busy",
        )


def test_a_dry_run_in_the_callers_transaction_rolls_back_completely(expanded: str) -> None:
    with psycopg.connect(expanded) as conn:
        before = pending_counts(conn)
        assert before["configs"] > 100 and before["calls"] == SPEC.calls
        results = [run_phase(conn, p, batch_size=400, commit=False) for p, _ in phases(conn)]
        assert [r.rows_changed for r in results][:2] == [before["configs"], before["calls"]]
        conn.rollback()
        assert pending_counts(conn) == before


def _hold_row_lock(url: str, seconds: float, ready: threading.Event) -> None:
    with psycopg.connect(url) as writer:
        writer.execute("UPDATE voice_agent_calls SET status = 'busy' WHERE id = 'call_0000000100'")
        ready.set()
        time.sleep(seconds)
        writer.commit()


def test_a_v1_writer_holding_a_row_makes_the_backfill_retry_then_give_up_clearly(expanded: str) -> None:
    ready = threading.Event()
    holder = threading.Thread(target=_hold_row_lock, args=(expanded, 6.0, ready))
    holder.start()
    ready.wait(10)
    try:
        with psycopg.connect(expanded) as conn:
            conn.execute("SET lock_timeout = '100ms'")
            started = time.monotonic()
            with pytest.raises(LockTimeoutExhausted, match="pg_stat_activity"):
                run_phase(conn, "calls", batch_size=500)
            # 5 attempts of at most 100 ms each plus backoff (0.2+0.4+0.8+1.6): never the writer's 6 s
            assert time.monotonic() - started < 4.5
    finally:
        holder.join()


def test_a_backfill_retries_after_a_lock_timeout_and_keeps_the_writers_change(expanded: str) -> None:
    ready = threading.Event()
    holder = threading.Thread(target=_hold_row_lock, args=(expanded, 0.5, ready))
    holder.start()
    ready.wait(10)
    with psycopg.connect(expanded) as conn:
        conn.execute("SET lock_timeout = '100ms'")
        result = run_phase(conn, "calls", batch_size=500)
        holder.join()
        assert result.finished and result.lock_retries >= 1
        row = conn.execute("SELECT status, outcome_code FROM voice_agent_calls WHERE id = 'call_0000000100'")
        assert row.fetchone() == ("busy", "busy")


def test_a_statement_timeout_halves_the_batch(expanded: str) -> None:
    with psycopg.connect(expanded, autocommit=True) as conn:
        conn.execute("""
            CREATE FUNCTION slow_big_batches() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF (SELECT count(*) FROM new_rows) > 100 THEN PERFORM pg_sleep(1); END IF; RETURN NULL; END $$;
            CREATE TRIGGER slow AFTER UPDATE ON voice_agent_calls REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION slow_big_batches()""")
        conn.execute("SET statement_timeout = '300ms'")
        result = run_phase(conn, "calls", batch_size=800)
        assert result.finished and result.halvings == 3 and result.final_batch_size == 100
        assert conn.execute("SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL").fetchone() == (0,)


def test_the_v1_sunset_is_never_in_head_and_refuses_an_unfinished_rollout(migrated: str) -> None:
    assert revisions.head_revision() != "0005_v1_sunset"
    assert revisions.head_revision(sunset=True) == "0005_v1_sunset"
    with pytest.raises(Exception, match="v1 sunset refused"):
        revisions.upgrade(settings_for(migrated), "head", sunset=True)
    with psycopg.connect(migrated) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
        assert conn.execute("SELECT count(*) FROM voice_agent_configs WHERE prompt IS NOT NULL").fetchone() > (0,)


def test_sql_files_say_what_they_do(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1] / "sql"
    for area in ("revisions", "objects"):
        for path in sorted(p for p in (root / area).rglob("*") if p.suffix in (".sql", ".objects")):
            mark = "--" if path.suffix == ".sql" else "#"  # an .objects manifest comments with '#'
            lines = path.read_text(encoding="utf-8").splitlines()  # the header: comments before the first statement
            head = "\n".join(itertools.takewhile(lambda line, mark=mark: not line or line.startswith(mark), lines))
            assert "What:" in head and "Re-run:" in head and "Inputs:" in head, path


def test_a_batch_is_planned_without_jit_even_where_the_server_would_jit_everything(expanded: str) -> None:
    # PostgreSQL's default jit = on compiled every batch's derive queries with LLVM first (~80 ms of a
    # ~120 ms batch of 5,000 calls); backfill_step turns JIT off for its own statements.
    with psycopg.connect(expanded, autocommit=True) as conn:
        row = conn.execute("SELECT set_config('jit', 'on', false), pg_jit_available()").fetchone()
        if not (row and row[1]):
            pytest.skip("this PostgreSQL has no JIT provider")
        plans: list[str] = []
        conn.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for name, value in (
            ("jit", "on"),
            ("jit_above_cost", "0"),  # JIT for every statement that may have it
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("client_min_messages", "log"),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        plans.clear()  # only the plans of the step's call and of the statements it runs
        conn.execute("SELECT * FROM voice_migration.backfill_step('calls', 200, NULL::text[])")
    outer = [p for p in plans if "backfill_step('calls'" in p]
    nested = [p for p in plans if "plan:" in p and p not in outer]
    assert outer and "JIT:" in outer[0], "the session really forces JIT (the statement that calls the step has it)"
    assert len(nested) >= 3, "auto_explain saw the batch's own statements"
    assert not [p for p in nested if "JIT:" in p]
