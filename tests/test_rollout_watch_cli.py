"""``rollout watch`` / ``rollout resume`` / ``rollout history`` as an operator (or cron) runs them.

The Slack notification goes to a local HTTP server standing in for the webhook.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest

from tests.conftest import add_calls, add_tenants
from tests.helpers import run_cli
from tests.reliability.support import cli_env

GATE = ["--window", "10m", "--min-calls", "50"]


@pytest.fixture()
def slack() -> Iterator[tuple[str, list[str]]]:
    """A local stand-in for a Slack incoming webhook: its URL and the texts posted to it."""
    posted: list[str] = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posted.append(str(json.loads(body)["text"]))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/rollout", posted
    finally:
        server.shutdown()
        server.server_close()


def test_cron_runs_of_watch_once_roll_a_degraded_v2_back_notify_slack_and_pause(
    head_database_url: str, slack: tuple[str, list[str]]
) -> None:
    url = head_database_url
    webhook, posted = slack
    with psycopg.connect(url, autocommit=True) as conn:
        add_tenants(conn, 10)
        add_calls(conn, "v1", 200, failed=2, age="1 minute")
        add_calls(conn, "v2", 200, failed=30, age="1 minute")  # 15 % against v1's 1 %
    assert run_cli(["rollout", "set-percentage", "25", "--by", "ann"], database_url=url).returncode == 0
    env = {"SLACK_WEBHOOK_URL": webhook}
    once = ["rollout", "watch", "--once", "--auto-rollback", *GATE]

    first = run_cli(once, database_url=url, env=env)
    assert first.returncode == 0, first.stderr
    assert "at 25 %: degraded (1/2)" in first.stdout and "-> none: v2 worse than v1, 1 of 2" in first.stdout
    second = run_cli([*once, "--format", "json"], database_url=url, env=env)
    assert second.returncode == 0, second.stderr
    shown = json.loads(second.stdout)
    assert (shown["verdict"], shown["failures"], shown["action"]) == ("degraded", 2, "rollback")
    assert shown["v2"]["failed_calls"] == 30 and shown["change"]["after"] == "10 %, master switch on"
    assert len(posted) == 1
    assert "rollout_watch_rollback" in posted[0] and "ROLLED BACK automatically from 25 %" in posted[0]
    assert "v2: 200 calls, 15.00 % failed" in posted[0] and "rollout resume --by WHO" in posted[0]

    third = run_cli(once, database_url=url, env=env)
    assert third.returncode == 0 and "paused since" in third.stdout and len(posted) == 1

    history = run_cli(["rollout", "history", "--limit", "4"], database_url=url)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].startswith("E3 ") and "-> none: paused since" in lines[0]
    rolled_back = "rollback_partial (global) by rollout-watch: 25 % on -> 10 % on - automatic rollback"
    assert any(rolled_back in line for line in lines)
    assert any(x.startswith("E2 ") and "-> rollback: rolled back to 10 %" in x for x in lines)
    as_json = json.loads(run_cli(["rollout", "history", "--format", "json"], database_url=url).stdout)
    assert {entry.get("kind", "flag_change") for entry in as_json} == {"flag_change", "watch_evaluation"}

    resumed = run_cli(["rollout", "resume", "--by", "ann", "--reason", "hotfix 2.3.1"], database_url=url)
    assert resumed.returncode == 0 and "rollout watch resumed by ann" in resumed.stdout
    again = run_cli(["rollout", "resume", "--by", "ann"], database_url=url)
    assert again.returncode == 0 and "was not paused" in again.stdout
    assert "resumed by ann" in run_cli(["rollout", "history"], database_url=url).stdout


def test_a_second_watcher_says_another_one_is_running_and_exits_1(head_database_url: str) -> None:
    with psycopg.connect(head_database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(30317, 19)")  # what a running watcher holds
        busy = run_cli(["rollout", "watch", "--once", *GATE], database_url=head_database_url)
    assert busy.returncode == 1
    assert busy.stderr.startswith("error: another rollout watcher is running (server pid ")
    assert "this one did not evaluate" in busy.stderr and "Traceback" not in busy.stderr
    with psycopg.connect(head_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM voice_migration.rollout_evaluations").fetchone() == (0,)


def test_watch_once_on_an_unreachable_database_is_one_line_and_exit_2() -> None:
    result = run_cli(["rollout", "watch", "--once"], database_url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "cannot connect" in result.stderr


def test_the_long_running_watcher_stops_cleanly_on_sigterm(head_database_url: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "voice_migration", "rollout", "watch", "--interval", "1h", *GATE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(head_database_url),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the first evaluation happens at once
        assert first.startswith("#1 ") and "(switch off): off" in first
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
