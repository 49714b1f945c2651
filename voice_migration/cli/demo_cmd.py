"""``voice-migration demo``: the whole runbook on a throwaway PostgreSQL; prints one section per step."""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import sys
import textwrap
from collections.abc import Iterator
from types import FrameType

import click

from voice_migration.cli.common import database_url_option, handle_errors
from voice_migration.cli.output import setup_output
from voice_migration.demo.run import Section, run_demo
from voice_migration.demo.walk import DemoSizes
from voice_migration.progress import ProgressReporter


def print_section(section: Section) -> None:
    """``== 3. migrate (12.3 s)`` and the section's lines, indented and wrapped; plain text in a pipe."""
    timing = f" ({section.seconds:.1f} s)" if section.seconds >= 0.05 else ""
    click.secho(f"\n== {section.number}. {section.title}{timing}", bold=True)
    width = min(max(shutil.get_terminal_size((120, 24)).columns, 80), 140)
    for line in section.lines:
        click.echo(
            textwrap.fill(
                line,
                width=width,
                initial_indent="   ",
                subsequent_indent="     ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        )


def progress_output() -> ProgressReporter:
    """Progress bars on a terminal (log lines in a pipe) for the migration; other info logs stay quiet."""
    reporter = setup_output(interactive=sys.stderr.isatty())
    # The sections already say what each step did; only the progress lines are worth a log line.
    logging.getLogger("voice_migration").setLevel(logging.WARNING)
    logging.getLogger("voice_migration.progress").setLevel(logging.INFO)
    return reporter


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so a killed demo still removes its throwaway server."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("demo")
@click.option("--tenants", type=click.IntRange(min=1), default=DemoSizes.tenants, show_default=True, help="Tenants.")
@click.option("--configs", type=click.IntRange(min=1), default=DemoSizes.configs, show_default=True, help="Configs.")
@click.option("--calls", type=click.IntRange(min=0), default=DemoSizes.calls, show_default=True, help="Calls.")
@click.option("--keep", is_flag=True, help="Leave the throwaway server running and print its URL, for psql.")
@click.option(
    "--i-know-this-is-not-production",
    "not_production",
    is_flag=True,
    help="Run on the (empty) database of --database-url / DATABASE_URL instead of refusing it.",
)
@database_url_option
@handle_errors
def demo_command(
    tenants: int, configs: int, calls: int, keep: bool, not_production: bool, database_url: str | None
) -> None:
    """Walk the whole runbook on a throwaway PostgreSQL with generated, messy v1 data.

    Dry run, migrate, validate, rollout to 5 %, status, force a tenant, a refused advance, the
    rollback levels tenant / partial / total / data, alembic downgrade with a round-trip check, and
    upgrade again. With DATABASE_URL set it refuses unless --i-know-this-is-not-production.
    """
    with sigterm_as_interrupt():
        result = run_demo(
            print_section,
            sizes=DemoSizes(tenants=tenants, configs=configs, calls=calls),
            database_url=database_url or None,
            not_production=not_production,
            keep=keep,
            progress=progress_output,
        )
    if result.kept_url:
        click.echo(f"\nserver left running (--keep): psql '{result.kept_url}'")
        click.echo(f"stop it and delete its files: {result.stop_hint}")
