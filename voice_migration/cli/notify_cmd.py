"""``voice-migration notify test``: send a test message through every configured channel (Slack, e-mail).

Exit 0 when every channel accepted it, 1 when any failed (a half-configured e-mail counts as failed),
2 when no channel is configured at all.
"""

from __future__ import annotations

import json

import click

from voice_migration.cli.common import handle_errors
from voice_migration.infra.errors import CheckFailed
from voice_migration.infra.notify import ChannelResult, send_test_message


def _line(result: ChannelResult) -> str:
    return f"{result.channel}: " + (f"sent to {result.target}" if result.ok else f"FAILED ({result.error})")


@click.group("notify")
def notify_group() -> None:
    """Notifications (SLACK_WEBHOOK_URL; SMTP_HOST + MIGRATION_ADMIN_EMAIL): check that they reach you."""


@notify_group.command("test")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def test_command(output_format: str) -> None:
    """Send a test message through every configured channel; exit 1 if any channel fails."""
    results = send_test_message()
    if output_format == "json":
        document = [{"channel": r.channel, "target": r.target, "ok": r.ok, "error": r.error} for r in results]
        click.echo(json.dumps({"channels": document}, indent=2))
    else:
        for result in results:
            click.echo(_line(result))
    failed = [r.channel for r in results if not r.ok]
    if failed:
        raise CheckFailed(
            f"notify test: {len(failed)} of {len(results)} channels failed ({', '.join(failed)}); "
            "fix the settings named above and run `voice-migration notify test` again"
        )
