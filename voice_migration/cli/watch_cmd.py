"""``voice-migration rollout watch`` and ``rollout resume``: the advance gate on a schedule (docs/rollout.md).

Registered on the ``rollout`` group in ``voice_migration/cli/__init__.py``. Thin over
``voice_migration.rollout.watch``: each evaluation is printed on stdout (a line, or a JSON object per
line with ``--format json``); the watcher's one-line events (database unreachable, standing by) are logs
on stderr. SIGTERM or Ctrl-C stops it after the current evaluation, exit 0.
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import timedelta
from types import FrameType

import click

from voice_migration import command
from voice_migration.cli.common import (
    NOTIFY,
    database_url_option,
    format_option,
    handle_errors,
    settings_from,
    warns_about_notification_setup,
)
from voice_migration.cli.output import LOG_FORMATS, LogFormat, configure_logging
from voice_migration.cli.rollout_cmd import by_option, gate_from_options, gate_options, reason_option
from voice_migration.infra.errors import UsageError
from voice_migration.rollout.health import parse_duration
from voice_migration.rollout.watch import (
    DEFAULT_CONSECUTIVE,
    WATCH_ACTOR,
    Evaluation,
    WatchConfig,
)


@click.command("watch")
@click.option("--once", is_flag=True, help="Evaluate a single time and exit (cron, Kubernetes CronJob).")
@click.option("--interval", metavar="DURATION", default="5m", show_default=True, help="How often to evaluate, e.g. 5m.")
@click.option("--auto-rollback", is_flag=True, help="Roll back to the previous step when v2 degrades, then pause.")
@click.option("--auto-advance", is_flag=True, help="Advance to the next step when the hold passed and v2 is healthy.")
@click.option(
    "--consecutive",
    type=click.IntRange(min=1),
    default=DEFAULT_CONSECUTIVE,
    show_default=True,
    help="Evaluations in a row needed to roll back (degraded) or advance (healthy).",
)
@click.option(
    "--by",
    "by",
    metavar="WHO",
    default=WATCH_ACTOR,
    show_default=True,
    help="The actor the watcher's changes are audited as.",
)
@gate_options
@format_option
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Debug logs.")
@database_url_option
@handle_errors
@warns_about_notification_setup
def watch_command(
    once: bool,
    interval: str,
    auto_rollback: bool,
    auto_advance: bool,
    consecutive: int,
    by: str,
    plan: str | None,
    window: str | None,
    max_error_rate_increase: float | None,
    max_p95_increase: float | None,
    min_calls: int | None,
    output_format: str,
    log_format: LogFormat,
    verbose: bool,
    database_url: str | None,
) -> None:
    """Evaluate the advance gate every --interval; with --auto-rollback/--auto-advance, act on it.

    Exit 0 after --once evaluated (whatever it found) or when stopped by SIGTERM/Ctrl-C; exit 1 when
    another watcher holds the lock (--once); exit 2 when the database cannot be reached (--once).
    """
    configure_logging(verbose=verbose, log_format=log_format)
    rollout_plan, policy = gate_from_options(plan, window, max_error_rate_increase, max_p95_increase, min_calls)
    every = parse_duration(interval, "--interval")
    if every <= timedelta(0):
        raise UsageError("--interval must be positive, e.g. 5m")
    config = WatchConfig(auto_rollback, auto_advance, consecutive, by, rollout_plan, policy, every)
    settings = settings_from(database_url)

    def show(evaluation: Evaluation) -> None:
        if output_format == "json":
            click.echo(json.dumps(evaluation.as_dict()))
        else:
            click.echo(evaluation.describe())

    if once:
        command.watch(settings, config, on_evaluation=show, once=True, notify=NOTIFY)
        return
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def wait(seconds: float) -> None:
        stop.wait(seconds)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        command.watch(settings, config, on_evaluation=show, sleep=wait, should_stop=stop.is_set, notify=NOTIFY)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("resume")
@by_option
@reason_option
@database_url_option
@handle_errors
def resume_command(by: str, reason: str | None, database_url: str | None) -> None:
    """Lift the watcher's pause after its automatic rollback; it evaluates and acts again."""
    pause = command.resume(settings_from(database_url), by, reason=reason)
    if pause is None:
        click.echo("the rollout watcher was not paused: nothing to resume")
        return
    click.echo(
        f"rollout watch resumed by {pause.resumed_by}: it was paused since {pause.paused_at:%Y-%m-%d %H:%M:%S %Z} "
        f"by {pause.paused_by} ({pause.reason}); the next rollback needs new consecutive bad evaluations"
    )
