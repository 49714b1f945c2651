"""Notifications reach a webhook and an SMTP server on 127.0.0.1, a dead channel never raises, and the setup is
checked: `notify test` tries every channel, and half an e-mail setup is named when a notifying command starts."""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.helpers import run_cli
from voice_migration.infra.notify import send_notification


@dataclass
class Inbox:
    """What a local test server received."""

    items: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


@contextmanager
def _serve(server: socketserver.BaseServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def webhook() -> Iterator[tuple[str, Inbox]]:
    """A tiny HTTP server that records every POSTed body (a stand-in for Slack)."""
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            inbox.items.append(body.decode())
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
            inbox.done.set()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with _serve(server):
        yield url, inbox


@pytest.fixture()
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    """A minimal SMTP responder (no TLS, no auth) that records each message's DATA."""
    inbox = Inbox()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 localhost test SMTP\r\n")
            data: list[str] = []
            in_data = False
            for raw in self.rfile:
                line = raw.decode().rstrip("\r\n")
                if in_data:
                    if line == ".":
                        in_data = False
                        inbox.items.append("\n".join(data))
                        self.wfile.write(b"250 queued\r\n")
                        inbox.done.set()
                    else:
                        data.append(line)
                    continue
                verb = line[:4].upper()
                if verb == "EHLO":
                    self.wfile.write(b"250 localhost\r\n")
                elif verb == "DATA":
                    in_data = True
                    self.wfile.write(b"354 go ahead\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with _serve(server):
        yield server.server_address[1], inbox


def test_a_migration_summary_is_posted_to_the_webhook_as_json(
    webhook: tuple[str, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, inbox = webhook
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    send_notification("migration_completed", "v1 -> v2 done", {"backup_id": "backup_20240115_143022"})
    assert inbox.done.wait(5)
    text = json.loads(inbox.items[0])["text"]
    assert "migration_completed" in text and "backup_20240115_143022" in text


def test_the_same_message_is_emailed_to_the_admin(
    smtp_server: tuple[int, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox = smtp_server
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("MIGRATION_ADMIN_EMAIL", "oncall@example.com")
    send_notification("rollback_data", "restored backup_20240115_143022", {"configs": 45})
    assert inbox.done.wait(5)
    message = inbox.items[0]
    assert "To: oncall@example.com" in message
    assert "rollback_data" in message and "configs: 45" in message


def test_the_database_password_never_leaves_in_a_notification(
    webhook: tuple[str, Inbox], smtp_server: tuple[int, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, hook_inbox = webhook
    port, mail_inbox = smtp_server
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("MIGRATION_ADMIN_EMAIL", "oncall@example.com")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cr3t-pw@db.internal:5432/voice")
    send_notification(
        "migration_failed",
        "cannot reach postgresql://app:s3cr3t-pw@db.internal:5432/voice (s3cr3t-pw)",
        {"database": "postgresql://app:s3cr3t-pw@db.internal/voice", "db_password": "s3cr3t-pw"},
    )
    assert hook_inbox.done.wait(5) and mail_inbox.done.wait(5)
    for received in hook_inbox.items + mail_inbox.items:
        assert "s3cr3t-pw" not in received
        assert "db.internal" in received


def test_an_unreachable_channel_is_logged_and_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens on this port any more
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("MIGRATION_ADMIN_EMAIL", "oncall@example.com")
    with caplog.at_level(logging.WARNING, logger="voice_migration.infra.notify"):
        send_notification("migration_failed", "boom", {})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.startswith("Slack notification migration_failed not sent") for w in warnings)
    assert any(w.startswith("e-mail notification migration_failed not sent") for w in warnings)


# --- the setup is checked (#15 point 5): `notify test`, and a warning when half of the e-mail is configured ----

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nowhere"  # refused at once: the command fails after its start
NOTIFYING_COMMANDS = [
    ["migrate", "--yes"],
    ["rollback", "--level", "total", "--reason", "drill", "--by", "oncall"],
    ["rollout", "set-percentage", "5", "--by", "oncall"],
    ["rollout", "enable-tenant", "tenant-1", "--by", "oncall"],
    ["rollout", "advance", "--by", "oncall"],
    ["rollout", "watch", "--once"],
]


def _closed_port() -> int:
    closed = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    port = int(closed.server_address[1])
    closed.server_close()
    return port


def _only_notification_env(**values: str) -> dict[str, str]:
    env = {name: "" for name in ("SLACK_WEBHOOK_URL", "SMTP_HOST", "SMTP_PORT", "MIGRATION_ADMIN_EMAIL")}
    env.update(values)
    return env


def test_notify_test_sends_a_test_message_through_every_configured_channel(
    webhook: tuple[str, Inbox], smtp_server: tuple[int, Inbox]
) -> None:
    url, hook_inbox = webhook
    port, mail_inbox = smtp_server
    env = _only_notification_env(
        SLACK_WEBHOOK_URL=url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), MIGRATION_ADMIN_EMAIL="oncall@example.com"
    )
    result = run_cli(["notify", "test"], env=env)
    assert result.returncode == 0, result.stderr
    assert "Slack: sent to" in result.stdout and "e-mail: sent to oncall@example.com" in result.stdout
    assert "notify_test" in json.loads(hook_inbox.items[0])["text"]
    assert "To: oncall@example.com" in mail_inbox.items[0] and "notify_test" in mail_inbox.items[0]


def test_notify_test_exits_1_and_names_the_channel_that_failed(webhook: tuple[str, Inbox]) -> None:
    url, hook_inbox = webhook
    env = _only_notification_env(
        SLACK_WEBHOOK_URL=url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(_closed_port()), MIGRATION_ADMIN_EMAIL="a@b.c"
    )
    result = run_cli(["notify", "test", "--format", "json"], env=env)
    assert result.returncode == 1
    channels = {c["channel"]: c for c in json.loads(result.stdout)["channels"]}
    assert channels["Slack"]["ok"] and not channels["e-mail"]["ok"] and channels["e-mail"]["error"]
    assert hook_inbox.items, "the working channel still got its message"
    assert result.stderr.strip().splitlines() == [
        "error: notify test: 1 of 2 channels failed (e-mail); fix the settings named above and run "
        "`voice-migration notify test` again"
    ]


def test_notify_test_counts_a_half_configured_email_as_failed() -> None:
    result = run_cli(["notify", "test"], env=_only_notification_env(MIGRATION_ADMIN_EMAIL="oncall@example.com"))
    assert result.returncode == 1
    assert "e-mail: FAILED (MIGRATION_ADMIN_EMAIL is set but SMTP_HOST is not" in result.stdout


def test_notify_test_without_any_channel_is_a_configuration_error() -> None:
    result = run_cli(["notify", "test"], env=_only_notification_env())
    assert result.returncode == 2
    assert result.stderr.startswith("error: no notification channel is configured: set SLACK_WEBHOOK_URL")


@pytest.mark.parametrize("command", NOTIFYING_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_that_notifies_warns_at_its_start_when_only_the_address_is_set(command: list[str]) -> None:
    """The runbook sets MIGRATION_ADMIN_EMAIL alone; that sends nothing, so the command says so first."""
    result = run_cli(command, database_url=UNREACHABLE, env=_only_notification_env(MIGRATION_ADMIN_EMAIL="a@b.c"))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: MIGRATION_ADMIN_EMAIL is set but SMTP_HOST is not: no e-mail will be sent; set SMTP_HOST "
        "(and SMTP_PORT if not 25) to your mail relay, or unset MIGRATION_ADMIN_EMAIL"
    ]
    assert result.stderr.startswith("warning:"), "printed at the start, before the command's own output"


def test_an_smtp_host_without_a_recipient_is_named_too() -> None:
    result = run_cli(["migrate", "--yes"], database_url=UNREACHABLE, env=_only_notification_env(SMTP_HOST="mail"))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "MIGRATION_ADMIN_EMAIL is not" in warnings[0]


def test_a_whole_setup_and_a_command_that_does_not_notify_print_no_warning() -> None:
    whole = _only_notification_env(SMTP_HOST="mail", MIGRATION_ADMIN_EMAIL="a@b.c")
    assert "warning:" not in run_cli(["migrate", "--yes"], database_url=UNREACHABLE, env=whole).stderr
    half = _only_notification_env(MIGRATION_ADMIN_EMAIL="a@b.c")
    assert "warning:" not in run_cli(["backups", "list"], database_url=UNREACHABLE, env=half).stderr


def test_with_json_logs_the_warning_is_a_json_line_too() -> None:
    result = run_cli(
        ["migrate", "--yes", "--log-format", "json"],
        database_url=UNREACHABLE,
        env=_only_notification_env(MIGRATION_ADMIN_EMAIL="a@b.c"),
    )
    first = json.loads(result.stderr.splitlines()[0])
    assert first["level"] == "warning" and first["message"].startswith("MIGRATION_ADMIN_EMAIL is set but SMTP_HOST")
