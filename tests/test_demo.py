"""``voice-migration demo``: the whole runbook end to end, and a throwaway server that never outlives it."""

from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest
from psycopg import sql

from tests.helpers import V1_COLUMNS, run_cli
from voice_migration.demo.run import Section, run_demo
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.demo.walk import STEP_TITLES, TRAFFIC, DemoSizes
from voice_migration.infra.errors import OperationRefused
from voice_migration.migration import revisions

SMALL = DemoSizes(tenants=10, configs=64, calls=5_000)
SMALL_ARGS = ["--tenants", str(SMALL.tenants), "--configs", str(SMALL.configs), "--calls", str(SMALL.calls)]
SIMULATED_CALLS = "demo_live_%"  # the ids of sql/demo/simulated_traffic.sql
_HEADING = re.compile(r"^== (\d+)\. (.+?)(?: \([\d.]+ s\))?$", re.MULTILINE)


# --- helpers -----------------------------------------------------------------------------------------


def headings(output: str) -> list[str]:
    """The section titles the CLI printed, in order."""
    return [match.group(2) for match in _HEADING.finditer(output)]


def data_directory(output: str) -> Path:
    """The throwaway server's directory (the parent of its data directory), as the demo printed it."""
    match = re.search(r"data directory (\S+)", output)
    assert match, output
    return Path(match.group(1)).parent


def processes_using(path: Path) -> list[str]:
    """Command lines of the running processes that mention ``path`` (a server's postmaster does, with -D)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(cmdline)
    return found


def server_processes(output: str) -> list[str]:
    """Every process of the demo's server still in the process table, zombies included, as ``pid state cmd``.

    The postmaster (its pid, as the demo printed it), any process whose parent it is, and any process whose
    title shows the server's ``cluster_name`` (every backend and helper of it does).
    """
    match = re.search(r"server process (\d+) \(`ps` shows its processes as postgres: (\S+): ", output)
    assert match, output
    postmaster, cluster = match.group(1), match.group(2)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(errors="replace")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, parent = stat.rpartition(")")[2].split()[:2]
        if entry.name == postmaster or parent == postmaster or f"postgres: {cluster}:" in cmdline:
            found.append(f"{entry.name} {state} {cmdline or stat}")
    return found


def v1_checksums_without_simulated_calls(url: str) -> dict[str, str]:
    """md5 of every v1 column of every row, per v1 table, leaving out the demo's simulated calls."""
    result = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table, columns in V1_COLUMNS.items():
            query = sql.SQL(
                "SELECT md5(string_agg(row({})::text, E'\\n' ORDER BY id)) FROM {} WHERE id NOT LIKE %s"
            ).format(sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(table))
            row = conn.execute(query, (SIMULATED_CALLS,)).fetchone()
            assert row is not None
            result[table] = str(row[0])
    return result


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        """Record the body, answer 200 like Slack."""
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture()
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    """A local HTTP endpoint standing in for Slack; yields its URL and the bodies posted to it."""
    _Recorder.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Recorder.received
    finally:
        server.shutdown()
        server.server_close()


# --- the walk ----------------------------------------------------------------------------------------


def test_the_demo_walks_every_runbook_step_in_order_and_keeps_v1_data_intact(
    database_url: str, v1_database_url: str, webhook: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook_url, posted = webhook
    monkeypatch.setenv("SLACK_WEBHOOK_URL", hook_url)
    sections: list[Section] = []

    result = run_demo(sections.append, sizes=SMALL, database_url=database_url, not_production=True)

    assert [s.title for s in sections][1:-1] == list(STEP_TITLES)
    text = {s.title: "\n".join(s.lines) for s in sections}
    assert "still at 0001_v1_baseline" in text["dry run: what would change"]
    assert "verification passed" in text["migrate"]
    gate = text["advance refused by the health gate"]
    assert "[FAILED] error rate" in gate and "refused: the rollout stays at 5 %" in gate
    assert "damaged prompts left: 0" in text["rollback level data: restore a backup"]
    round_trip = text["alembic downgrade to v1 + round-trip check"]
    assert round_trip.count("[ok] ") == len(V1_COLUMNS) and "FAILED" not in round_trip
    assert result.step_seconds and not result.throwaway and result.kept_url is None

    # The database ends at v2 again, the simulated calls kept, the flags reset by the round trip.
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
        assert conn.execute("SELECT enabled, rollout_percentage FROM voice_agent_v2_flags").fetchone() == (False, 0)
        simulated = conn.execute("SELECT count(*) FROM voice_agent_calls WHERE id LIKE %s", (SIMULATED_CALLS,))
        assert simulated.fetchone() == (TRAFFIC["v1_calls"] + TRAFFIC["v2_calls"],)
        unmigrated = conn.execute("SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL").fetchone()
        assert unmigrated == (0,)

    # Independently of the demo's own check: every v1 column equals a fresh seed of the same data.
    with psycopg.connect(v1_database_url) as conn:
        seed_v1(conn, SeedSpec(SMALL.tenants, SMALL.configs, SMALL.calls, messy=True))
    assert v1_checksums_without_simulated_calls(database_url) == v1_checksums_without_simulated_calls(v1_database_url)

    # Its rollbacks were rehearsals: nobody was notified, and the setting is back for the caller.
    assert posted == []
    assert os.environ["SLACK_WEBHOOK_URL"] == hook_url


def test_the_demo_refuses_a_database_that_is_not_empty(head_database_url: str) -> None:
    with pytest.raises(OperationRefused, match="needs an empty database"):
        run_demo(lambda section: None, sizes=SMALL, database_url=head_database_url, not_production=True)
    with psycopg.connect(head_database_url) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)


def test_a_given_database_is_refused_without_the_not_production_flag(database_url: str) -> None:
    from_env = run_cli(["demo", *SMALL_ARGS], database_url=database_url)
    secret_url = "postgresql://app:s3cret-pw@127.0.0.1:1/prod"
    from_option = run_cli(["demo", *SMALL_ARGS, "--database-url", secret_url])

    for result in (from_env, from_option):
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "--i-know-this-is-not-production" in result.stderr
        assert result.stdout == ""
    assert "s3cret-pw" not in from_option.stderr and "app:***@" in from_option.stderr
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) is None
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)


# --- the throwaway server ------------------------------------------------------------------------------


def test_the_demo_on_a_throwaway_server_leaves_no_process_or_directory() -> None:
    result = run_cli(["demo", *SMALL_ARGS])
    # Counted right after exit, before anything else could reap or clean up (issue #17 point 11).
    leftovers = server_processes(result.stdout)

    assert result.returncode == 0, result.stderr
    assert headings(result.stdout) == ["throwaway PostgreSQL", *STEP_TITLES, "done"]
    directory = data_directory(result.stdout)
    assert directory.name.startswith("voice-migration-")
    assert not directory.exists()
    assert leftovers == []
    assert processes_using(directory) == []
    assert "the server is stopped and removed" in result.stdout


def test_ctrl_c_during_the_migration_stops_and_removes_the_throwaway_server() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("VOICE_MIGRATION_")}
    # A session of its own, so the signal goes to the whole process group, as Ctrl-C in a terminal does.
    demo = subprocess.Popen(
        [sys.executable, "-m", "voice_migration", "demo", *SMALL_ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,
    )
    assert demo.stdout is not None
    seen = []
    for line in demo.stdout:  # the dry run's section is printed as the migration starts
        seen.append(line)
        if line.startswith("== 2."):
            break
    directory = data_directory("".join(seen))
    assert directory.exists(), "the server should be running while the demo migrates"

    os.killpg(demo.pid, signal.SIGINT)
    rest, errors = demo.communicate(timeout=120)

    assert demo.returncode == 1
    assert "== 3." not in rest, "the migration should have been interrupted"
    leftovers = server_processes("".join(seen))
    assert errors.strip().splitlines()[-1].startswith("error: the demo was interrupted")
    assert not directory.exists()
    assert leftovers == []
    assert processes_using(directory) == []


def test_keep_leaves_the_server_running_with_a_url_psql_can_use_and_a_working_stop_command() -> None:
    result = run_cli(["demo", *SMALL_ARGS, "--keep"])
    assert result.returncode == 0, result.stderr
    directory = data_directory(result.stdout)
    url = re.search(r"psql '([^']+)'", result.stdout)
    stop = re.search(r"stop it and delete its files: (.+)$", result.stdout, re.MULTILINE)
    assert url and stop, result.stdout
    try:
        with psycopg.connect(url.group(1), connect_timeout=10) as conn:
            assert revisions.current_revision(conn) == revisions.head_revision()
            assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (SMALL.tenants,)
    finally:
        # The command the demo printed, run as a user would paste it into a shell.
        stopped = subprocess.run(  # noqa: S602
            stop.group(1), shell=True, capture_output=True, text=True, timeout=120, check=False
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not directory.exists()
    assert processes_using(directory) == []


def test_impossible_sizes_are_refused_before_any_server_starts() -> None:
    result = run_cli(["demo", "--tenants", "0"])
    assert result.returncode == 2
    assert "--tenants" in result.stderr
    assert result.stdout == ""
