"""Test helpers shared by the suite: fresh databases, the CLI in a subprocess or in-process, row checksums,
and the reliability tests' end state of a migration.

Test infrastructure lives here and in ``conftest.py`` files only (STYLE.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

import psycopg
from click.testing import CliRunner, Result
from psycopg import conninfo, sql
from pytest_postgresql.janitor import DatabaseJanitor

from voice_migration.cli import main
from voice_migration.demo.seed import SeedSpec
from voice_migration.infra.embedded import EphemeralPostgres, find_server_bindir
from voice_migration.infra.settings import load_settings
from voice_migration.migration.backup import checksum
from voice_migration.migration.revisions import upgrade

V1_COLUMNS: dict[str, tuple[str, ...]] = {
    "tenants": ("id", "name", "created_at"),
    "voice_agent_configs": (
        "id",
        "tenant_id",
        "name",
        "prompt",
        "voice_id",
        "language",
        "enabled",
        "created_at",
        "updated_at",
    ),
    "voice_agent_calls": (
        "id",
        "tenant_id",
        "config_id",
        "direction",
        "status",
        "ended_reason",
        "duration_seconds",
        "latency_ms",
        "outcome",
        "transcript",
        "version",
        "created_at",
    ),
}


@dataclass(frozen=True)
class Server:
    """Where the test server listens; ``url(dbname)`` gives a psycopg/Alembic URL."""

    host: str
    port: int
    user: str
    password: str | None

    def url(self, dbname: str) -> str:
        """A postgresql:// URL for ``dbname`` on this server."""
        return (
            conninfo.make_conninfo(
                "", host=self.host, port=self.port, user=self.user, password=self.password, dbname=dbname
            )
            if self.host.startswith("/")
            else (
                f"postgresql://{self.user}{':' + self.password if self.password else ''}"
                f"@{self.host}:{self.port}/{dbname}"
            )
        )

    def janitor(self, dbname: str, template: str | None = None, *, as_template: bool = False) -> DatabaseJanitor:
        """A pytest-postgresql janitor that creates ``dbname`` (from ``template``) and drops it."""
        return DatabaseJanitor(
            user=self.user,
            host=self.host,
            port=self.port,
            password=self.password,
            dbname=dbname,
            template_dbname=template,
            as_template=as_template,
        )


def server_from_url(url: str) -> Server:
    """Parse a libpq URL or DSN into a :class:`Server`."""
    params = conninfo.conninfo_to_dict(url)
    return Server(
        host=str(params.get("host") or "127.0.0.1"),
        port=int(params.get("port") or 5432),
        user=str(params.get("user") or "postgres"),
        password=str(params["password"]) if params.get("password") else None,
    )


def make_template(server: Server, name: str, target: str | None) -> None:
    """Create template database ``name`` migrated to Alembic ``target`` (None: empty)."""
    janitor = server.janitor(name)
    janitor.drop()
    janitor.init()
    if target is not None:
        upgrade(load_settings(server.url(name), env={}), target)
    mark_template(server, name)


def mark_template(server: Server, name: str) -> None:
    """Mark database ``name`` as a template, so tests can clone it with CREATE DATABASE ... TEMPLATE."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH is_template true").format(sql.Identifier(name)))


@contextmanager
def fresh_database(server: Server, template: str) -> Iterator[str]:
    """A new database cloned from ``template``; yields its URL and drops it afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    janitor = server.janitor(name, template)
    janitor.init()
    try:
        yield server.url(name)
    finally:
        janitor.drop()


def run_cli(
    args: Sequence[str],
    *,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``voice-migration ARGS`` in a subprocess, as an operator would, and capture its output."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_MIGRATION_")}
    environment.pop("DATABASE_URL", None)
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "voice_migration", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=input_text,
        timeout=timeout,
        check=False,
    )


def table_checksum(
    conn: psycopg.Connection[tuple[object, ...]], table: str, columns: Sequence[str] | None = None
) -> str:
    """Rows and checksum over ``columns`` (default: every column) of every row of ``table``: the project's
    one table checksum (:func:`voice_migration.migration.backup.checksum`)."""
    rows, digest = checksum(conn, sql.Identifier(table), columns)
    return f"{rows} rows {digest}"


def v1_checksums(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """Checksums of every v1 column of every row, per v1 table."""
    return {table: table_checksum(conn, table, cols) for table, cols in V1_COLUMNS.items()}


def database_checksum(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """Checksums of every row of every ordinary table in public and voice_migration (schema included)."""
    tables = conn.execute(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'voice_migration') ORDER BY 1"
    ).fetchall()
    result: dict[str, str] = {}
    for (qualified,) in tables:
        rows, digest = checksum(conn, sql.SQL(str(qualified)), None)
        result[str(qualified)] = f"{rows} rows {digest}"
    columns = conn.execute(
        "SELECT md5(string_agg(table_schema || '.' || table_name || '.' || column_name || ':' || data_type, ','"
        " ORDER BY table_schema, table_name, column_name)) FROM information_schema.columns "
        "WHERE table_schema IN ('public', 'voice_migration')"
    ).fetchone()
    assert columns is not None
    result["<schema>"] = str(columns[0])
    return result


def wait_for_lock_waiters(conn: psycopg.Connection[tuple[object, ...]], count: int, timeout: float = 5.0) -> int:
    """Poll until ``count`` sessions of this database wait for a lock (or ``timeout`` passes); return how many do."""
    deadline = time.monotonic() + timeout
    waiting = 0
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        waiting = int(str(row[0])) if row else 0
        if waiting == count:
            break
        time.sleep(0.01)
    return waiting


# --- the reliability tests' toolkit -------------------------------------------------------------------------
# The end state (:func:`end_state`) is what an operator cares about after a migration: every row of
# every table in ``public`` and ``voice_migration`` plus the schema objects (columns, indexes and their
# validity, constraints and whether they are validated, triggers, functions). It leaves out only what
# legitimately differs between two correct runs:
#
# * clock columns: the time the run wrote a row (``RUN_CLOCK_COLUMNS``) — ``migrated_at``,
#   ``computed_at``, ``quarantined_at``, ``held_since``, and the flag tables' stamps (set when revision 0002 ran);
# * run bookkeeping: each run takes its own backup (``voice_migration.backups`` and the
#   ``backup_*`` tables), and ``backfill_progress`` counters restart with every pass; of the
#   progress table only where each phase ended (phase, scope, last key, finished) is compared.

Conn = psycopg.Connection[tuple[object, ...]]

SPEC = SeedSpec(tenants=3, configs=64, calls=300, messy=True)
BATCH_SIZE = 10

RUN_CLOCK_COLUMNS: Mapping[str, frozenset[str]] = {
    "public.voice_agent_configs": frozenset({"migrated_at"}),
    "public.voice_agent_metrics": frozenset({"computed_at"}),
    "public.voice_agent_v2_flags": frozenset({"updated_at", "step_started_at"}),
    "public.voice_agent_v2_flag_audit": frozenset({"changed_at"}),
    "public.voice_agent_v2_held_tenants": frozenset({"held_since"}),
    "voice_migration.quarantine": frozenset({"quarantined_at"}),
}
RUN_BOOKKEEPING = frozenset({"voice_migration.backups", "voice_migration.backfill_progress"})

# A statement trigger that makes every backfill batch on configs and calls last SLOW_SECONDS while the
# switch table says so: the SIGKILL test turns it on at the chosen moment, so that a kill a few
# milliseconds later lands inside a batch's open transaction, and off again before the re-run.
SLOW_SECONDS = 0.1
SLOW_BATCHES_SQL = f"""
CREATE TABLE public.reliability_switch (slow boolean NOT NULL);
INSERT INTO public.reliability_switch VALUES (false);
CREATE FUNCTION public.reliability_slow_batch() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF (SELECT s.slow FROM public.reliability_switch AS s) THEN
        PERFORM pg_sleep({SLOW_SECONDS});
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reliability_slow_batch AFTER UPDATE ON public.voice_agent_configs
    FOR EACH STATEMENT EXECUTE FUNCTION public.reliability_slow_batch();
CREATE TRIGGER reliability_slow_batch AFTER UPDATE ON public.voice_agent_calls
    FOR EACH STATEMENT EXECUTE FUNCTION public.reliability_slow_batch();
"""


def set_slow_batches(url: str, slow: bool) -> None:
    """Turn the test-only slow-batch trigger on or off (committed at once)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE public.reliability_switch SET slow = %s", (slow,))


_TABLES = """
SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'voice_migration') AND c.relname !~ '^backup_'
ORDER BY 1, 2
"""
_COLUMNS = """
SELECT a.attname FROM pg_attribute AS a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
_CATALOG = {
    "<columns>": """
        SELECT table_schema || '.' || table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
        FROM information_schema.columns
        WHERE table_schema IN ('public', 'voice_migration') AND table_name !~ '^backup_'""",
    "<indexes>": """
        SELECT pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid || ' ready=' || i.indisready
        FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'voice_migration') AND c.relname !~ '^backup_'""",
    "<constraints>": """
        SELECT k.conrelid::regclass::text || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
               || ' validated=' || k.convalidated
        FROM pg_constraint AS k JOIN pg_namespace AS n ON n.oid = k.connamespace
        WHERE n.nspname IN ('public', 'voice_migration') AND k.conrelid::regclass::text !~ 'backup_'""",
    "<triggers>": """
        SELECT t.tgrelid::regclass::text || ' ' || t.tgname || ' ' || t.tgenabled::text
        FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname IN ('public', 'voice_migration')""",
    "<functions>": """
        SELECT p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' || coalesce(p.proconfig::text, '')
               || ' definer=' || p.prosecdef
        FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'voice_migration')""",
}


def end_state(conn: Conn) -> dict[str, str]:
    """Checksums of the migrated data and schema, leaving out clocks and run bookkeeping (module doc)."""
    state: dict[str, str] = {}
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 1")
        for schema, table in conn.execute(_TABLES).fetchall():
            qualified = f"{schema}.{table}"
            if qualified in RUN_BOOKKEEPING:
                continue
            skip = RUN_CLOCK_COLUMNS.get(qualified, frozenset())
            columns = [str(r[0]) for r in conn.execute(_COLUMNS, (qualified,)).fetchall() if r[0] not in skip]
            row = sql.SQL("row({})::text").format(sql.SQL(", ").join(sql.Identifier(c) for c in columns))
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg({row}, E'\\n' ORDER BY {row}), '')) FROM {t}")
            result = conn.execute(query.format(row=row, t=sql.Identifier(str(schema), str(table)))).fetchone()
            assert result is not None
            state[qualified] = f"{result[0]} rows {result[1]}"
        progress = conn.execute(
            "SELECT string_agg(concat_ws(' ', phase, scope, last_key, finished_at IS NOT NULL), ', ' ORDER BY phase, "
            "scope) FROM voice_migration.backfill_progress"
        ).fetchone()
        state["voice_migration.backfill_progress (where each phase ended)"] = str(progress[0] if progress else None)
        for name, query_text in _CATALOG.items():
            query = f"SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM ({query_text}) AS q (x)"
            found = conn.execute(query.encode()).fetchone()
            state[name] = str(found[0] if found else None)
    return state


def url_state(url: str) -> dict[str, str]:
    """:func:`end_state` of the database at ``url``."""
    with psycopg.connect(url) as conn:
        return end_state(conn)


def scalar(url: str, query: str, params: Sequence[object] = ()) -> object:
    """The first column of the first row of ``query``."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query.encode(), params or None).fetchone()
    assert row is not None
    return row[0]


def cli_env(url: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an operator's shell: ours without VOICE_MIGRATION_* and notification settings."""
    drop = ("VOICE_MIGRATION_", "SLACK_", "SMTP_", "MIGRATION_ADMIN", "PGOPTIONS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "DATABASE_URL"}
    if url is not None:
        env["DATABASE_URL"] = url
    env.update(extra or {})
    return env


def start_cli(url: str, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m voice_migration ARGS`` as a separate process, stderr piped (for JSON logs), stdout kept."""
    return subprocess.Popen(
        [sys.executable, "-m", "voice_migration", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(url, env),
    )


@dataclass
class ForkedCli:
    """A CLI run in a child process forked from this one; ``stderr`` reads what it logs."""

    pid: int
    stderr: TextIO

    def kill(self) -> None:
        """SIGKILL the child and reap it."""
        os.kill(self.pid, signal.SIGKILL)
        self.wait()

    def wait(self) -> int:
        """Wait for the child to end; its exit status (or -signal)."""
        _, status = os.waitpid(self.pid, 0)
        self.stderr.close()
        return os.waitstatus_to_exitcode(status)


def fork_cli(args: Sequence[str], *, url: str, env: Mapping[str, str] | None = None) -> ForkedCli:
    """Run ``voice-migration ARGS`` in a forked child: the CLI's own ``main``, as the console script runs it.

    Forking skips the interpreter start-up (1-3 s on a loaded 2-core machine), which is what makes
    20 kills affordable; the child is a separate process with its own connections, killed for real.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(read_fd)
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.dup2(write_fd, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as the child
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
            os.environ.clear()
            os.environ.update(cli_env(url, env))
            signal.signal(signal.SIGINT, signal.default_int_handler)
            main.main(args=list(args), prog_name="voice-migration", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os._exit(code)
    os.close(write_fd)
    return ForkedCli(pid, open(read_fd, encoding="utf-8"))  # closed by wait()


@contextmanager
def _quiet_cli_logging() -> Iterator[None]:
    """Put the ``voice_migration`` logger back as it was: an in-process CLI run reconfigures it."""
    logger = logging.getLogger("voice_migration")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]


def invoke(args: Sequence[str], *, url: str | None = None, env: Mapping[str, str] | None = None) -> Result:
    """Run the CLI in this process (no interpreter start-up), as an operator's shell would, and capture it."""
    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("VOICE_MIGRATION_")}
    environment.update({"DATABASE_URL": url, "SLACK_WEBHOOK_URL": None, "SMTP_HOST": None, "PGOPTIONS": None})
    environment.update(env or {})
    with _quiet_cli_logging():
        return CliRunner().invoke(main, list(args), env=environment, catch_exceptions=True)


def error_lines(stderr: str) -> list[str]:
    """The lines of ``stderr`` that are error messages (ours: ``error: ``; click's usage errors: ``Error: ``)."""
    return [line for line in stderr.splitlines() if line.startswith(("error: ", "Error: "))]


def wait_for_no_sessions(url: str, application: str = "voice-migration%", timeout: float = 20.0) -> None:
    """Wait until the server has closed every session of a killed CLI (their locks go with them)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE %s AND pid <> pg_backend_pid()",
                (application,),
            ).fetchone()
            if row and row[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError(f"sessions of the killed CLI still open after {timeout} s")


@dataclass(frozen=True)
class Counts:
    """Row counts an operator checks first: nothing may disappear."""

    tenants: int
    configs: int
    calls: int


def counts(url: str) -> Counts:
    """Row counts of the three v1 tables."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM voice_agent_configs), "
            "(SELECT count(*) FROM voice_agent_calls)"
        ).fetchone()
    assert row is not None
    return Counts(int(row[0]), int(row[1]), int(row[2]))  # type: ignore[call-overload]


def pg_ctl(server: EphemeralPostgres, action: str) -> None:
    """``pg_ctl stop|start|restart`` on a throwaway server's data directory, as the user that runs it.

    ``stop`` and ``restart`` are fast shutdowns (every session ends, open transactions roll back);
    ``start`` reuses the options of the previous start (``postmaster.opts``: port, socket, settings).
    """
    bindir = find_server_bindir()
    workdir = server._workdir  # the data directory lives there (voice_migration.infra.embedded)
    assert bindir is not None and workdir is not None
    data = workdir / "data"
    command = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(workdir / "server.log"), "-w", "-t", "60"]
    if action == "start":
        words = shlex.split((data / "postmaster.opts").read_text())[1:]
        at = words.index("-D")
        command += ["-o", " ".join(shlex.quote(word) for word in words[:at] + words[at + 2 :])]
    else:
        command += ["-m", "fast"]
    command.append(action)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # PostgreSQL runs as postgres when we are root
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=90)


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def schema_errors(value: object, schema: dict[str, object], where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (the JSON Schema subset the report schema uses)."""
    problems: list[str] = []
    declared = schema.get("type")
    if declared is not None:
        names = [declared] if isinstance(declared, str) else list(declared)  # type: ignore[call-overload]
        # bool is an int in Python, but never a JSON integer or number.
        if not any(isinstance(value, _TYPES[n]) and not (isinstance(value, bool) and n != "boolean") for n in names):
            return [f"{where}: {value!r} is not {declared}"]
    if "const" in schema and value != schema["const"]:
        problems.append(f"{where}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:  # type: ignore[operator]
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        properties: dict[str, dict[str, object]] = schema.get("properties", {})  # type: ignore[assignment]
        problems += [f"{where}: missing {key}" for key in schema.get("required", []) if key not in value]  # type: ignore[attr-defined]
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                problems += schema_errors(item, properties[key], f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}: undocumented key {key}")
            elif isinstance(extra, dict):
                problems += schema_errors(item, extra, f"{where}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            problems += schema_errors(item, schema["items"], f"{where}[{i}]")  # type: ignore[arg-type]
    return problems
