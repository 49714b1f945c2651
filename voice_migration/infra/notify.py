"""Tell people what happened: a Slack webhook and/or an e-mail when a migration ends or fails, on rollbacks.

Configuration is the environment (the runbook's section 2.2):

* ``SLACK_WEBHOOK_URL`` — post ``{"text": ...}`` JSON to it;
* ``SMTP_HOST`` and ``MIGRATION_ADMIN_EMAIL`` — send the same text by e-mail, with
  ``SMTP_PORT`` (default 25), ``SMTP_USER``/``SMTP_PASSWORD`` (login, after STARTTLS
  when the server offers it) and ``SMTP_FROM`` (default ``voice-migration@<host>``).

A notification is a courtesy, never a step of the migration: every failure is
logged as a warning and swallowed, each channel waits at most
:data:`TIMEOUT_SECONDS`, and nothing that looks like a password leaves the process.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import socket
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from urllib.parse import urlsplit

from voice_migration.infra.secrets import redact_url, scrub
from voice_migration.infra.settings import Environment

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
_SECRET_KEY = re.compile(r"password|passwd|secret|token", re.IGNORECASE)


def render(kind: str, message: str, details: Mapping[str, object]) -> str:
    """The notification text: a headline, then one ``key: value`` line per detail (secrets masked)."""
    lines = [f"[voice-migration] {kind} on {socket.gethostname()}: {message}"]
    for key, value in details.items():
        shown = "***" if _SECRET_KEY.search(key) else redact_url(str(value)) if "://" in str(value) else value
        lines.append(f"{key}: {shown}")
    return scrub("\n".join(lines))


def send_notification(kind: str, message: str, details: Mapping[str, object]) -> None:
    """Send ``message`` to every configured channel; never raises, logs a warning per failed channel.

    ``kind`` is a short event name (``migration_completed``, ``migration_failed``,
    ``rollback_data``...); ``details`` are shown as ``key: value`` lines.
    """
    try:
        text = render(kind, message, details)
    except Exception as exc:  # a detail whose str() fails must not fail the caller
        log.warning("notification %s not sent: cannot render it (%s)", kind, type(exc).__name__)
        return
    environment = Environment.of()
    webhook = environment.text("SLACK_WEBHOOK_URL")
    if webhook:
        _guarded("Slack", kind, lambda: _post_slack(webhook, text))
    smtp_host = environment.text("SMTP_HOST")
    recipient = environment.text("MIGRATION_ADMIN_EMAIL")
    if smtp_host and recipient:
        _guarded("e-mail", kind, lambda: _send_email(environment, smtp_host, recipient, kind, text))
    elif smtp_host or recipient:
        log.debug("e-mail notification skipped: it needs both SMTP_HOST and MIGRATION_ADMIN_EMAIL")


def _guarded(channel: str, kind: str, send: Callable[[], None]) -> None:
    try:
        send()
    except Exception as exc:  # a notification failure is logged, never fatal (module docstring)
        log.warning(
            "%s notification %s not sent: %s; the operation itself is unaffected",
            channel,
            kind,
            scrub(" ".join(str(exc).split()) or type(exc).__name__),
        )
    else:
        log.debug("%s notification %s sent", channel, kind)


def _post_slack(url: str, text: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("SLACK_WEBHOOK_URL is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()


def _send_email(environment: Environment, host: str, recipient: str, kind: str, text: str) -> None:
    port_text = environment.text("SMTP_PORT", "25")
    if not port_text.isdigit():
        raise ValueError(f"SMTP_PORT={port_text!r} is not a port number")
    email = EmailMessage()
    email["Subject"] = f"[voice-migration] {kind}"
    email["From"] = environment.text("SMTP_FROM") or f"voice-migration@{socket.getfqdn()}"
    email["To"] = recipient
    email.set_content(text)
    with smtplib.SMTP(host, int(port_text), timeout=TIMEOUT_SECONDS) as smtp:
        smtp.ehlo()
        user = environment.text("SMTP_USER")
        if smtp.has_extn("starttls"):
            smtp.starttls()
            smtp.ehlo()
        if user:
            smtp.login(user, environment.values.get("SMTP_PASSWORD", ""))
        smtp.send_message(email)
