"""``voice-migration demo``: the whole runbook on a throwaway embedded PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import click

from voice_migration.cli.common import handle_errors
from voice_migration.demo import DemoSizes, run_demo


def _say(title: str, lines: Sequence[str]) -> None:
    click.secho(f"\n== {title}", bold=True)
    for line in lines:
        click.echo(f"   {line}")


@click.command("demo")
@click.option("--tenants", type=click.IntRange(min=1), default=DemoSizes.tenants, show_default=True)
@click.option("--configs", type=click.IntRange(min=1), default=DemoSizes.configs, show_default=True)
@click.option("--calls", type=click.IntRange(min=0), default=DemoSizes.calls, show_default=True)
@click.option("--keep", is_flag=True, help="Leave the server running and print its URL, for exploring with psql.")
@handle_errors
def demo_command(tenants: int, configs: int, calls: int, keep: bool) -> None:
    """Walk the runbook on a throwaway PostgreSQL with generated, messy v1 data."""
    url = run_demo(_say, DemoSizes(tenants=tenants, configs=configs, calls=calls), keep=keep)
    if url:
        click.echo(f"\nserver left running: psql '{url}'")
