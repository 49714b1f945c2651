"""Notifications reach a webhook and an SMTP server on 127.0.0.1, and a dead channel never raises."""

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
