"""``voice-migration seed``: fill an empty v1 database with synthetic data."""

from __future__ import annotations

import click

from voice_migration import command
from voice_migration.cli.common import database_url_option, handle_errors, settings_from
from voice_migration.demo.seed import SeedSpec


@click.command("seed")
@click.option("--tenants", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--configs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--calls", type=click.IntRange(min=0), default=10_000, show_default=True)
@click.option("--messy", is_flag=True, help="Plant what real v1 data has: NULLs, orphans, odd spellings.")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True, help="Random seed.")
@database_url_option
@handle_errors
def seed_command(
    tenants: int, configs: int, calls: int, messy: bool, seed_value: int, database_url: str | None
) -> None:
    """Fill an empty v1 database with generated, deterministic data (set-based SQL)."""
    spec = SeedSpec(tenants=tenants, configs=configs, calls=calls, messy=messy, seed=seed_value)
    settings = settings_from(database_url)
    result = command.seed(settings, spec)
    click.echo(
        f"seeded {result.tenants:,} tenants, {result.configs:,} configs, {result.calls:,} calls "
        f"in {result.seconds:.1f} s into {settings.redacted_url}"
    )
