"""Showing progress and logs: rich progress bars on a terminal, plain one-line logs elsewhere.

The core reports through a :class:`~voice_migration.progress.ProgressReporter`; :func:`setup_output`
picks how to show it:

* on a TTY (text logs): one rich progress bar per phase with done/total, elapsed time and rows/s;
* otherwise (CI, pipes, ``--log-format json``): the core's own :class:`~voice_migration.progress.LogProgress`
  lines on stderr; with ``--verbose`` or ``VOICE_MIGRATION_LOG=debug`` one per batch.

:func:`configure_logging` sets up the ``voice_migration`` loggers: level from
``--verbose`` / ``VOICE_MIGRATION_LOG`` (``debug``, ``info``, ``warning``, ``error``),
text or one JSON object per line (``--log-format json``). Every line goes through
:func:`voice_migration.infra.secrets.scrub`, so no password reaches a log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.secrets import scrub
from voice_migration.infra.settings import Environment
from voice_migration.progress import LogProgress, ProgressReporter

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_ROOT = "voice_migration"
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

log = logging.getLogger(f"{_ROOT}.progress")


def log_level(verbose: bool, environ: dict[str, str] | None = None) -> int:
    """``DEBUG`` with ``--verbose``, else the level named by ``VOICE_MIGRATION_LOG`` (default ``INFO``)."""
    name = Environment.of(environ).text("VOICE_MIGRATION_LOG", "info").lower()
    if name not in _LEVELS:
        raise ConfigurationError(f"VOICE_MIGRATION_LOG={name!r} is not a log level: use debug, info, warning or error")
    return logging.DEBUG if verbose else _LEVELS[name]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message`` and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of JSON (passwords masked)."""
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        return json.dumps(payload, default=str, ensure_ascii=False)


class _ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging(
    *,
    verbose: bool = False,
    log_format: LogFormat = "text",
    stream: TextIO | None = None,
    console: Console | None = None,
) -> None:
    """Send the ``voice_migration`` loggers to stderr (or ``stream``) at the configured level and format.

    With a rich ``console`` (a TTY), text logs are printed through it so they do not tear the progress bars.
    """
    logger = logging.getLogger(_ROOT)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif console is not None:
        handler = RichHandler(console=console, show_path=False, markup=False)
        handler.setFormatter(_ScrubbingFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(_ScrubbingFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(log_level(verbose))
    logger.propagate = False


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


class RichProgress:
    """Rich progress bars, one per phase, on a terminal."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            _RateColumn(),
            TextColumn("{task.fields[summary]}"),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._totals: dict[str, int | None] = {}
        self._live = False  # started with the first phase, so a confirmation prompt comes first

    def start_phase(self, phase: str, total: int | None) -> None:
        """Add a bar for ``phase``."""
        if not self._live:
            self._progress.start()
            self._live = True
        self._tasks[phase] = self._progress.add_task(phase, total=total, summary="")
        self._totals[phase] = total

    def update(self, phase: str, done: int, total: int) -> None:
        """Move the bar of ``phase``."""
        if phase not in self._tasks:
            self.start_phase(phase, total)
        self._totals[phase] = total
        self._progress.update(self._tasks[phase], completed=done, total=total)
        log.debug("%s: %s/%s", phase, done, total, extra={"phase": phase, "done": done, "total": total})

    def finish_phase(self, phase: str, summary: str) -> None:
        """Fill the bar of ``phase`` and show its summary."""
        if phase not in self._tasks:
            self.start_phase(phase, 1)
        task = self._tasks[phase]
        total = self._totals.get(phase) or 1
        self._progress.update(task, completed=total, total=total, summary=summary)
        self._progress.stop_task(task)

    def close(self) -> None:
        """Stop the live display (the bars stay on screen)."""
        if self._live:
            self._progress.stop()
            self._live = False


def setup_output(
    *, verbose: bool = False, log_format: LogFormat = "text", interactive: bool | None = None
) -> ProgressReporter:
    """Configure logging and return the progress reporter for this process.

    Rich bars when stderr is a terminal and logs are text; plain log lines otherwise.
    """
    if interactive is None:
        interactive = sys.stderr.isatty()
    if interactive and log_format == "text":
        console = Console(stderr=True)
        configure_logging(verbose=verbose, log_format=log_format, console=console)
        return RichProgress(console)
    configure_logging(verbose=verbose, log_format=log_format)
    return LogProgress()
