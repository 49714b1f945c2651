"""Tell people what happened: a Slack webhook and/or an e-mail when a migration ends or fails, on rollbacks.

Configuration is the environment (the runbook's section 2.2):

* ``SLACK_WEBHOOK_URL`` — post ``{"text": ...}`` JSON to it;
* ``SMTP_HOST`` and ``MIGRATION_ADMIN_EMAIL`` — send the same text by e-mail, with
  ``SMTP_PORT`` (default 25), ``SMTP_USER``/``SMTP_PASSWORD`` (login, after STARTTLS
  when the server offers it) and ``SMTP_FROM`` (default ``voice-migration@<host>``).

A notification is a courtesy, never a step of the migration: every failure is
logged as a warning and swallowed, each channel waits at most
:data:`TIMEOUT_SECONDS`, and nothing that looks like a password leaves the process.

Half a configuration sends nothing, so it is named rather than skipped in silence:
:func:`setup_warnings` lists what is missing (every CLI command that notifies prints it
when it starts), and :func:`send_test_message` (``voice-migration notify test``) sends a test
message through every configured channel and reports each one.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import smtplib
import socket
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.secrets import redact_url, scrub
from voice_migration.infra.settings import Environment

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@")
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
    for channel in configured_channels():
        _guarded(channel.name, kind, functools.partial(channel.send, kind, text))
    if _email_half_configured():
        log.debug("e-mail notification skipped: it needs both SMTP_HOST and MIGRATION_ADMIN_EMAIL")


@dataclass(frozen=True)
class Channel:
    """A configured notification channel: its name and how to send ``(kind, text)`` through it (raises)."""

    name: str
    target: str  # where it sends, safe to show (no password)
    send: Callable[[str, str], None]


def configured_channels() -> list[Channel]:
    """The channels the environment configures completely (Slack webhook; e-mail with host and recipient)."""
    channels: list[Channel] = []
    environment = Environment.of()
    webhook = environment.text("SLACK_WEBHOOK_URL")
    if webhook:
        channels.append(Channel("Slack", redact_url(webhook), lambda _kind, text: _post_slack(webhook, text)))
    smtp_host = environment.text("SMTP_HOST")
    recipient = environment.text("MIGRATION_ADMIN_EMAIL")
    if smtp_host and recipient:
        channels.append(
            Channel(
                "e-mail",
                f"{recipient} via {smtp_host}:{environment.text('SMTP_PORT', '25')}",
                lambda kind, text: _send_email(environment, smtp_host, recipient, kind, text),
            )
        )
    return channels


def _email_half_configured() -> bool:
    environment = Environment.of()
    return bool(environment.text("SMTP_HOST")) != bool(environment.text("MIGRATION_ADMIN_EMAIL"))


def setup_warnings() -> list[str]:
    """One line per notification setting that makes a channel send nothing (empty when the setup is whole).

    ``MIGRATION_ADMIN_EMAIL`` without ``SMTP_HOST`` (the runbook sets only the address) or ``SMTP_HOST``
    without a recipient: each line names the missing variable and what to do.
    """
    warnings: list[str] = []
    environment = Environment.of()
    smtp_host = environment.text("SMTP_HOST")
    recipient = environment.text("MIGRATION_ADMIN_EMAIL")
    if recipient and not smtp_host:
        warnings.append(
            "MIGRATION_ADMIN_EMAIL is set but SMTP_HOST is not: no e-mail will be sent; set SMTP_HOST "
            "(and SMTP_PORT if not 25) to your mail relay, or unset MIGRATION_ADMIN_EMAIL"
        )
    if smtp_host and not recipient:
        warnings.append(
            "SMTP_HOST is set but MIGRATION_ADMIN_EMAIL is not: e-mail has no recipient and none will be sent; "
            "set MIGRATION_ADMIN_EMAIL to the address to notify, or unset SMTP_HOST"
        )
    return warnings


@dataclass(frozen=True)
class ChannelResult:
    """What ``notify test`` got from one channel: ``error`` is None when the message was accepted."""

    channel: str
    target: str
    error: str | None

    @property
    def ok(self) -> bool:
        """The channel accepted the test message."""
        return self.error is None


def send_test_message() -> list[ChannelResult]:
    """Send a test message through every configured channel and report each one; a failing channel never raises.

    A half-configured e-mail is reported as a failed channel (what is missing). Raises
    :class:`ConfigurationError` when no channel is configured at all: there is nothing to test.
    """
    results: list[ChannelResult] = []
    if _email_half_configured():
        results.append(ChannelResult("e-mail", "not configured", setup_warnings()[0]))
    channels = configured_channels()
    if not channels and not results:
        raise ConfigurationError(
            "no notification channel is configured: set SLACK_WEBHOOK_URL, or SMTP_HOST and MIGRATION_ADMIN_EMAIL "
            "(see README, notifications), then run `voice-migration notify test` again"
        )
    text = render("notify_test", "test message: if you read this, voice-migration can reach you", {})
    for channel in channels:
        try:
            channel.send("notify_test", text)
        except Exception as exc:  # reported to the operator, who asked for exactly this
            results.append(ChannelResult(channel.name, channel.target, _describe(exc)))
        else:
            results.append(ChannelResult(channel.name, channel.target, None))
    return results


def _describe(exc: Exception) -> str:
    return scrub(" ".join(str(exc).split()) or type(exc).__name__)


def _guarded(channel: str, kind: str, send: Callable[[], None]) -> None:
    try:
        send()
    except Exception as exc:  # a notification failure is logged, never fatal (module docstring)
        log.warning(
            "%s notification %s not sent: %s; the operation itself is unaffected",
            channel,
            kind,
            _describe(exc),
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
