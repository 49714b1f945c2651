"""``voice-migration demo``: the whole runbook on generated, messy v1 data, one short section per step.

Order (issue 7): v1 data -> dry run -> migrate (with progress) -> validate -> rollout to 5 % -> status ->
force one tenant on -> advance refused by the health gate -> tenant rollback -> partial rollback ->
total rollback -> data restore from a backup -> ``alembic downgrade`` to v1 with the round-trip check ->
upgrade again.

The steps themselves are ``voice_migration.demo.walk``; this module decides where they run and
makes sure nothing outlives the demo. With no database given it runs on a throwaway server
(:class:`~voice_migration.infra.embedded.EphemeralPostgres`) that is stopped and deleted at the end, on any
error and on Ctrl-C; ``keep`` leaves it running. A database given by URL is only used when the caller
says it is not production, and must be empty.

The core prints nothing: each step is handed to the ``report`` callback as a :class:`Section`, and the
migration's progress goes to a :class:`~voice_migration.progress.ProgressReporter` from ``progress``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from voice_migration.demo.walk import DEFAULT_SIZES, STEP_TITLES, DemoSizes, ProgressFactory, QuietProgress, Walk
from voice_migration.infra.embedded import SERVER_USER, EphemeralPostgres
from voice_migration.infra.errors import OperationRefused
from voice_migration.infra.secrets import redact_url
from voice_migration.infra.settings import Settings, load_settings

# Notification channels (voice_migration.infra.notify) the demo switches off: a throwaway rollback must not page anyone.
NOTIFICATION_ENV = ("SLACK_WEBHOOK_URL", "SMTP_HOST", "MIGRATION_ADMIN_EMAIL")


@dataclass(frozen=True)
class Section:
    """One step of the demo as shown to the reader: a numbered title and a few lines with the numbers."""

    number: int
    title: str
    lines: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class DemoResult:
    """How the demo went: where it ran, how long each step took, and the server if it was kept."""

    database: str  # redacted URL
    throwaway: bool
    seconds: float
    step_seconds: tuple[tuple[str, float], ...]
    kept_url: str | None = None
    stop_hint: str | None = None


Report = Callable[[Section], None]


def run_demo(
    report: Report,
    *,
    sizes: DemoSizes = DEFAULT_SIZES,
    database_url: str | None = None,
    not_production: bool = False,
    keep: bool = False,
    progress: ProgressFactory | None = None,
) -> DemoResult:
    """Walk the runbook and report each step; see the module docstring.

    ``database_url`` (None: a throwaway server) is refused with :class:`OperationRefused` unless
    ``not_production``; it must name an empty database (or one at the v1 baseline with no rows).
    ``keep`` leaves the throwaway server running, also when a step fails (to look at what went
    wrong); Ctrl-C always removes it and raises :class:`OperationRefused`.
    """
    started = time.perf_counter()
    kept_url = stop_hint = None
    if database_url:
        if not not_production:
            raise OperationRefused(
                f"a database is given ({redact_url(database_url)}, from --database-url or DATABASE_URL) and the "
                "demo would seed, migrate, roll back and downgrade it: refusing, it may be production; unset "
                "DATABASE_URL to run on a throwaway server, or pass --i-know-this-is-not-production"
            )
        settings = load_settings(database_url)
        timings = _walk_all(settings, report, sizes, progress, server=None)
    else:
        settings, timings, kept_url = _run_on_throwaway(report, sizes, keep, progress)
        stop_hint = _stop_hint(kept_url) if kept_url else None
    result = DemoResult(
        settings.redacted_url, not database_url, time.perf_counter() - started, timings, kept_url, stop_hint
    )
    slowest = sorted(timings, key=lambda t: t[1], reverse=True)[:3]
    where = "kept running (--keep)" if kept_url else "stopped and removed" if result.throwaway else "left as it is"
    report(
        Section(
            len(STEP_TITLES) + 1,
            "done",
            (
                f"whole demo in {result.seconds:.1f} s"
                + (", server start and stop included" if result.throwaway else "")
                + f"; the server is {where}",
                "slowest steps: " + ", ".join(f"{title} {seconds:.1f} s" for title, seconds in slowest),
            ),
            0.0,
        )
    )
    return result


Timings = tuple[tuple[str, float], ...]


def _run_on_throwaway(
    report: Report, sizes: DemoSizes, keep: bool, progress: ProgressFactory | None
) -> tuple[Settings, Timings, str | None]:
    """Start a server, walk, and stop and delete it unless ``keep``; returns the URL when it was kept."""
    server = EphemeralPostgres()
    keep_server = False
    try:
        server.start()
        settings = load_settings(server.url, env={})
        timings = _walk_all(settings, report, sizes, progress, server=server)
        keep_server = keep
    except KeyboardInterrupt:
        raise OperationRefused(
            "the demo was interrupted (Ctrl-C or SIGTERM): its throwaway server was stopped and its files removed; "
            "run `voice-migration demo` again to start over"
        ) from None
    except Exception:
        if keep and server.url:
            keep_server = True
            report(Section(0, "server kept for inspection (--keep)", _kept_lines(server.url), 0.0))
        raise
    finally:
        if not keep_server:
            with _ctrl_c_ignored():
                server.stop()
    return settings, timings, server.url if keep_server else None


def _walk_all(
    settings: Settings,
    report: Report,
    sizes: DemoSizes,
    progress: ProgressFactory | None,
    *,
    server: EphemeralPostgres | None,
) -> Timings:
    """Report where the demo runs, then run and report every step; returns each step's duration."""
    began = time.perf_counter()
    timings: list[tuple[str, float]] = []
    with _notifications_off(), contextlib.closing(Walk(settings, sizes, progress or QuietProgress)) as walk:
        report(
            Section(
                0,
                _server_title(server),
                (*walk.server_lines(throwaway=server is not None), *_process_lines(server)),
                time.perf_counter() - began,
            )
        )
        for number, (title, step) in enumerate(zip(STEP_TITLES, walk.steps(), strict=True), start=1):
            began = time.perf_counter()
            lines = step()
            seconds = time.perf_counter() - began
            timings.append((title, seconds))
            report(Section(number, title, tuple(lines), seconds))
    return tuple(timings)


def _process_lines(server: EphemeralPostgres | None) -> tuple[str, ...]:
    """The throwaway server's postmaster pid: gone (not merely stopped) when the demo exits."""
    if server is None or server.pid is None:
        return ()
    return (f"server process {server.pid} (`ps` shows its processes as postgres: {server.cluster_name}: ...)",)


def _server_title(server: EphemeralPostgres | None) -> str:
    return "throwaway PostgreSQL" if server is not None else "your database (you said it is not production)"


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while the server is removed, so a second Ctrl-C cannot leave it half-removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _notifications_off() -> Iterator[None]:
    """Hide the notification settings for the demo's duration (it rolls back on purpose; nobody is paged)."""
    saved = {name: os.environ.pop(name) for name in NOTIFICATION_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _kept_lines(url: str) -> tuple[str, ...]:
    return (f"psql '{url}'", f"stop it: {_stop_hint(url)}")


def _stop_hint(url: str) -> str:
    """The shell command that stops a kept server and deletes its files (asked of the server itself)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT current_setting('data_directory'), (SELECT setting FROM pg_config WHERE name = 'BINDIR')"
            ).fetchone()
            assert row is not None
            data, bindir = Path(str(row[0])), Path(str(row[1]))
    except psycopg.Error:
        return "pg_ctl -D <its data directory> -m fast stop (the server did not answer to say where it is)"
    as_user = f"runuser -u {SERVER_USER} -- " if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
    remove = f" && rm -rf {data.parent}" if data.parent.name.startswith("voice-migration-") else ""
    return f"{as_user}{bindir / 'pg_ctl'} -D {data} -m fast stop{remove}"
