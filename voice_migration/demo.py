"""``voice-migration demo``: the runbook on a throwaway embedded PostgreSQL with generated v1 data.

The core knows nothing about the terminal: each step reports through ``say``
(a title and lines), which the CLI prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voice_migration import revisions
from voice_migration.config import Settings, load_settings
from voice_migration.db import connect
from voice_migration.embedded import EphemeralPostgres
from voice_migration.revisions import BASELINE_REVISION
from voice_migration.seed import SeedSpec, seed_v1

Say = Callable[[str, Sequence[str]], None]


@dataclass(frozen=True)
class DemoSizes:
    """How much generated v1 data the demo migrates."""

    tenants: int = 100
    configs: int = 1_000
    calls: int = 200_000


def run_demo(say: Say, sizes: DemoSizes = DemoSizes(), *, keep: bool = False) -> str | None:
    """Start a throwaway server, walk the runbook, and stop it (unless ``keep``; then return its URL)."""
    server = EphemeralPostgres()
    started = time.perf_counter()
    server.start()
    try:
        say("throwaway PostgreSQL", [f"started at {server.url}"])
        settings = load_settings(server.url, env={})
        _walk(settings, sizes, say)
        say("done", [f"whole demo in {time.perf_counter() - started:.1f} s"])
    except BaseException:
        server.stop()
        raise
    if keep:
        return server.url
    server.stop()
    return None


def _walk(settings: Settings, sizes: DemoSizes, say: Say) -> None:
    revisions.upgrade(settings, BASELINE_REVISION)
    with connect(settings) as conn:
        seeded = seed_v1(conn, SeedSpec(tenants=sizes.tenants, configs=sizes.configs, calls=sizes.calls, messy=True))
    say(
        "v1 data (messy, generated)",
        [f"{seeded.tenants:,} tenants, {seeded.configs:,} configs, {seeded.calls:,} calls in {seeded.seconds:.1f} s"],
    )
    began = time.perf_counter()
    revisions.upgrade(settings, "head")
    with connect(settings) as conn:
        revision = revisions.current_revision(conn)
    say("alembic upgrade head", [f"now at {revision} in {time.perf_counter() - began:.1f} s"])
