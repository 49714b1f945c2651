"""`migrate --dry-run` on a live database: it takes no lock an application write waits on (issue #14).

* While an application writes (inserting calls, finishing existing calls, inserting, updating and
  deleting configs; its own connection, ``lock_timeout`` off), a dry run on a database at v1, at
  0003_v2_expand and at 0004_v2_backfill (not backfilled) never makes a write wait 1 s, and the dry
  run's session holds nothing but ACCESS SHARE on any table outside its temporary schema.
* An application transaction that holds row locks of a config and a call and stays open does not
  stop the dry run, which only reads; nobody else is slowed; the transaction is left alone.
* Killing the dry run's session (``pg_terminate_backend``) while it copies, while it runs the phases
  and while it verifies leaves every row and every catalog object as it was.
* On an intermediate revision (0003, configs phase already done for real) the dry run predicts the
  real run's counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest

from alembic import command
from tests.conftest import TEMPLATE_V1
from tests.helpers import (
    Server,
    database_checksum,
    end_state,
    error_lines,
    fresh_database,
    invoke,
    mark_template,
    start_cli,
)
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.infra.errors import OperationRefused
from voice_migration.migration import backfill, revisions
from voice_migration.migration.dry_run import audit_locks, shadow_sql

pytestmark = pytest.mark.reliability

Conn = psycopg.Connection[tuple[object, ...]]
# Big enough that a dry run lasts a few seconds (the writer and the kills land inside it), small
# enough for the suite.
LIVE_SPEC = SeedSpec(tenants=6, configs=400, calls=12_000, messy=True)
TEMPLATE_LIVE = "vm_template_dry_run_live"
MAX_WAIT = 1.0  # seconds: no application write may wait longer during a dry run
DRY_RUN_APP = "voice-migration-dry-run"


@pytest.fixture(scope="session")
def _live_template(pg_server: Server, _templates: None) -> Iterator[str]:
    janitor = pg_server.janitor(TEMPLATE_LIVE, TEMPLATE_V1)
    janitor.drop()
    janitor.init()
    with psycopg.connect(pg_server.url(TEMPLATE_LIVE)) as conn:
        seed_v1(conn, LIVE_SPEC)
    mark_template(pg_server, TEMPLATE_LIVE)
    yield TEMPLATE_LIVE
    pg_server.janitor(TEMPLATE_LIVE, as_template=True).drop()


@pytest.fixture()
def live_url(pg_server: Server, _live_template: str) -> Iterator[str]:
    """A fresh copy of the live corpus at the v1 baseline."""
    with fresh_database(pg_server, _live_template) as url:
        yield url


def upgrade_to(url: str, target: str) -> None:
    """``alembic upgrade TARGET`` with the backfill left undone (rows stay in v1 shape)."""
    if target == revisions.BASELINE_REVISION:
        return
    config = revisions.alembic_config(url)
    config.attributes["skip_backfill"] = True
    command.upgrade(config, target)


def fingerprint(url: str) -> dict[str, str]:
    """Every row of every table in public and voice_migration (bookkeeping included) and the catalog objects."""
    with psycopg.connect(url) as conn:
        state = database_checksum(conn)
        state.update({f"end_state {k}": v for k, v in end_state(conn).items()})
        schemas = conn.execute(
            "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_'"
        ).fetchone()
        state["<schemas>"] = str(schemas[0] if schemas else None)
        relations = conn.execute(
            "SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname !~ '^pg_(toast_)?temp_' AND n.nspname <> 'pg_toast'"
        ).fetchone()
        state["<relations>"] = str(relations[0] if relations else None)
    return state


@dataclass
class Application:
    """The v1 application: one transaction per iteration, timing each; ``lock_timeout`` off, so a blocked
    write waits (and is measured) instead of failing."""

    url: str
    avoid: tuple[str, ...] = ()  # call/config ids another session holds: not the dry run's doing
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="v1-app") as conn:
            conn.execute("SET lock_timeout = 0; SET statement_timeout = 0")
            calls = [
                str(r[0])
                for r in conn.execute(
                    "SELECT id FROM voice_agent_calls WHERE NOT id = ANY (%s) ORDER BY id LIMIT 200",
                    (list(self.avoid),),
                ).fetchall()
            ]
            configs = [
                str(r[0])
                for r in conn.execute(
                    "SELECT id FROM voice_agent_configs WHERE voice_id IS NOT NULL AND NOT id = ANY (%s) "
                    "ORDER BY id LIMIT 50",
                    (list(self.avoid),),
                ).fetchall()
            ]
            n = 0
            while not self.stop.is_set():
                n += 1
                started = time.perf_counter()
                try:
                    with conn.transaction():
                        conn.execute(
                            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, "
                            "duration_seconds, latency_ms, created_at) "
                            "SELECT 'app_call_' || %s, tenant_id, id, 'inbound', 'in-progress', 0, NULL, now() "
                            "FROM voice_agent_configs WHERE id = %s",
                            (n, configs[n % len(configs)]),
                        )
                        conn.execute(
                            "UPDATE voice_agent_calls SET status = 'completed', outcome = 'Cita agendada', "
                            "duration_seconds = 42 + %s %% 7, latency_ms = 300 + %s %% 50, "
                            "transcript = 'gracias, su cita queda agendada' WHERE id = %s",
                            (n, n, calls[n % len(calls)]),
                        )
                        conn.execute(
                            "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, "
                            "enabled, created_at, updated_at) SELECT 'app_cfg_' || %s, tenant_id, 'app', "
                            "'Eres un asistente', 'voice_1', 'es', true, now(), now() "
                            "FROM voice_agent_configs WHERE id = %s",
                            (n, configs[0]),
                        )
                        conn.execute(
                            "UPDATE voice_agent_configs SET prompt = prompt || ' ', updated_at = now() WHERE id = %s",
                            (configs[n % len(configs)],),
                        )
                        conn.execute("DELETE FROM voice_agent_configs WHERE id = 'app_cfg_' || %s", (n - 1,))
                except psycopg.Error as exc:
                    self.errors.append(str(exc))
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.01)


@dataclass
class LockWatch:
    """Polls the dry run's session: the lock modes it holds on tables outside its temporary schema, and
    whether any session of the database waits for a lock."""

    url: str
    modes: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)
    seen_dry_run: bool = False
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT l.mode FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
                    "JOIN pg_class AS c ON c.oid = l.relation JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                    "WHERE a.application_name = %s AND l.locktype = 'relation' "
                    "AND n.nspname IN ('public', 'voice_migration')",
                    (DRY_RUN_APP,),
                ).fetchall()
                self.modes.update(str(r[0]) for r in rows)
                self.seen_dry_run = self.seen_dry_run or bool(rows)
                waiting = conn.execute(
                    "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                ).fetchall()
                self.waiting.update(str(r[0]) for r in waiting)
                time.sleep(0.005)


@dataclass
class Background:
    threads: list[threading.Thread] = field(default_factory=list)
    stops: list[threading.Event] = field(default_factory=list)

    def start(self, worker: Application | LockWatch) -> None:
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        self.threads.append(thread)
        self.stops.append(worker.stop)

    def close(self) -> None:
        for stop in self.stops:
            stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.mark.parametrize("revision", [revisions.BASELINE_REVISION, "0003_v2_expand", "0004_v2_backfill"])
def test_application_writes_never_wait_for_a_dry_run(live_url: str, revision: str) -> None:
    upgrade_to(live_url, revision)
    app, watch, background = Application(live_url), LockWatch(live_url), Background()
    background.start(app)
    background.start(watch)
    try:
        time.sleep(0.3)  # the application is writing before the dry run starts
        result = invoke(["migrate", "--dry-run", "--batch-size", "500"], url=live_url)
        time.sleep(0.2)
    finally:
        background.close()
    assert result.exit_code == 0, result.output
    assert "would change: configs to migrate" in result.output
    assert watch.seen_dry_run, "the watcher saw the dry run's session"
    assert watch.modes == {"AccessShareLock"}, "only reads of the application's and bookkeeping tables"
    assert "v1-app" not in watch.waiting, "no application write waited for a lock"
    assert not app.errors
    assert len(app.latencies) > 20
    assert max(app.latencies) < MAX_WAIT, f"slowest write {max(app.latencies):.3f} s"


def test_an_open_application_transaction_holding_rows_neither_stops_nor_slows_a_dry_run(live_url: str) -> None:
    upgrade_to(live_url, "0003_v2_expand")
    with psycopg.connect(live_url, application_name="long-app-transaction") as holder:
        config, call = (
            str(v)
            for v in holder.execute(
                "SELECT (SELECT min(id) FROM voice_agent_configs WHERE voice_id IS NOT NULL), "
                "(SELECT min(id) FROM voice_agent_calls)"
            ).fetchone()
            or ()
        )
        holder.execute("UPDATE voice_agent_configs SET name = 'being edited' WHERE id = %s", (config,))
        holder.execute("UPDATE voice_agent_calls SET status = 'completed' WHERE id = %s", (call,))
        pid = holder.info.backend_pid
        app, background = Application(live_url, avoid=(config, call)), Background()
        background.start(app)
        try:
            started = time.perf_counter()
            # A short lock_timeout: the old dry run would have failed on these rows; this one never waits.
            result = invoke(
                ["migrate", "--dry-run", "--batch-size", "500"],
                url=live_url,
                env={"VOICE_MIGRATION_LOCK_TIMEOUT": "200ms"},
            )
            seconds = time.perf_counter() - started
        finally:
            background.close()
        assert result.exit_code == 0, result.output
        assert holder.info.backend_pid == pid
        assert holder.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS, "left alone"
        holder.rollback()
    assert seconds < 60
    assert not app.errors
    assert max(app.latencies) < MAX_WAIT, f"slowest write {max(app.latencies):.3f} s"


# Where a kill lands: the statement the dry run's session is running (pg_stat_activity.query).
KILL_POINTS = {
    "copying the tables": "INSERT INTO pg_temp.",
    "running the phases": "backfill_step",
    "verifying": "check_name",
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killing_the_dry_run_at_any_moment_leaves_the_database_byte_identical(live_url: str, point: str) -> None:
    upgrade_to(live_url, "0003_v2_expand")
    before = fingerprint(live_url)
    process = start_cli(live_url, "migrate", "--dry-run", "--batch-size", "200")
    killed = False
    try:
        with psycopg.connect(live_url, autocommit=True) as monitor:
            deadline = time.monotonic() + 60
            while not killed and time.monotonic() < deadline and process.poll() is None:
                row = monitor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s AND state = 'active' AND strpos(query, %s) > 0",
                    (DRY_RUN_APP, KILL_POINTS[point]),
                ).fetchone()
                killed = bool(row and row[0])
                time.sleep(0.002)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert killed, f"the dry run was killed while {point}"
    assert process.returncode != 0
    assert "Traceback" not in stderr and len(error_lines(stderr)) == 1, stderr
    assert fingerprint(live_url) == before


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query.encode()).fetchone()
    return int(str(row[0])) if row else -1


def test_a_dry_run_at_an_intermediate_revision_predicts_the_real_run(live_url: str) -> None:
    upgrade_to(live_url, "0003_v2_expand")
    with psycopg.connect(live_url, autocommit=True) as conn:
        backfill.run_phase(conn, "configs", batch_size=100)  # half-way: configs done, calls not
    before = fingerprint(live_url)
    dry = invoke(["migrate", "--dry-run", "--verbose", "--batch-size", "500"], url=live_url)
    assert dry.exit_code == 0, dry.output
    assert fingerprint(live_url) == before
    assert "configs to migrate 0," in dry.output, "the configs were migrated already"
    assert "before (v1)" in dry.output and "would be quarantined" in dry.output
    calls_to_update = _count(live_url, "SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL")
    assert f"calls to update {calls_to_update:,}," in dry.output
    real = invoke(["migrate", "--yes", "--batch-size", "500"], url=live_url)
    assert real.exit_code == 0, real.output
    metrics = _count(live_url, "SELECT count(*) FROM voice_agent_metrics")
    assert f"metrics to generate {metrics:,}" in dry.output


# --- the pieces -------------------------------------------------------------------------------------


def test_statements_are_pointed_at_the_copies_and_settings_are_not() -> None:
    text = (
        "SELECT * FROM voice_migration.backfill_step('calls', 5, NULL), public.voice_agent_calls AS c, "
        '"public"."voice_agent_configs", "voice_migration"."quarantine", public.voice_agent_v2_flags '
        "WHERE current_setting('voice_migration.tenant_ids', true) IS NULL "
        "AND set_config('voice_migration.backfill', 'on', true) = 'on'"
    )
    assert shadow_sql(text) == (
        "SELECT * FROM pg_temp.backfill_step('calls', 5, NULL), pg_temp.voice_agent_calls AS c, "
        'pg_temp."voice_agent_configs", pg_temp."quarantine", public.voice_agent_v2_flags '
        "WHERE current_setting('voice_migration.tenant_ids', true) IS NULL "
        "AND set_config('voice_migration.backfill', 'on', true) = 'on'"
    )
    assert shadow_sql("CREATE SCHEMA IF NOT EXISTS voice_migration;\nSELECT 1") == "\nSELECT 1"
    with pytest.raises(OperationRefused, match="refused a statement on schema voice_migration"):
        shadow_sql("DROP SCHEMA voice_migration CASCADE")


def test_the_lock_guard_stops_a_dry_run_that_would_hold_a_write_lock(live_url: str) -> None:
    with psycopg.connect(live_url) as conn:
        audit_locks(conn, "nothing")  # reads only: fine
        conn.execute("SELECT count(*) FROM voice_agent_calls")
        audit_locks(conn, "a read")
        conn.execute("CREATE TEMP TABLE scratch (x int); INSERT INTO scratch VALUES (1)")
        audit_locks(conn, "writing a temporary table")
        conn.execute("SELECT 1 FROM voice_agent_configs LIMIT 1 FOR UPDATE")
        with pytest.raises(OperationRefused, match=r"RowShareLock on public\.voice_agent_configs"):
            audit_locks(conn, "a row lock")
        conn.rollback()
