"""How the core reports progress: the :class:`ProgressReporter` protocol, and plain log lines by default.

The core reports progress through ``start_phase`` / ``update(phase, done, total)`` / ``finish_phase``
and knows nothing about terminals. :class:`LogProgress`, the default, logs on the
``voice_migration.progress`` logger: one line when a phase starts, at most one every
:data:`PLAIN_INTERVAL` seconds while it runs (each batch at debug level), one when it ends.
Showing it — rich progress bars on a terminal, text or JSON log lines elsewhere — is the CLI's job
(:mod:`voice_migration.cli.output`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

PLAIN_INTERVAL = 5.0

log = logging.getLogger("voice_migration.progress")


class ProgressReporter(Protocol):
    """What the CLI gives the core: phase start/end and the ``(phase, done, total)`` callback."""

    def start_phase(self, phase: str, total: int | None) -> None:
        """A phase begins; ``total`` is the work it expects (None: unknown)."""

    def update(self, phase: str, done: int, total: int) -> None:
        """The progress callback: ``done`` of ``total`` rows of ``phase`` are through."""

    def finish_phase(self, phase: str, summary: str) -> None:
        """A phase ended; ``summary`` says what it did, in a few words."""

    def close(self) -> None:
        """Stop drawing (idempotent)."""


@dataclass
class _PhaseClock:
    started: float = field(default_factory=time.perf_counter)
    last_line: float = 0.0


class LogProgress:
    """Plain progress for CI and pipes: log lines, never terminal control codes."""

    def __init__(self) -> None:
        self._phases: dict[str, _PhaseClock] = {}

    def start_phase(self, phase: str, total: int | None) -> None:
        """Log the start of ``phase``."""
        self._phases[phase] = _PhaseClock()
        log.info(
            "%s: started%s",
            phase,
            "" if total is None else f", {total:,} to do",
            extra={"phase": phase, "total": total},
        )

    def update(self, phase: str, done: int, total: int) -> None:
        """Log a batch at debug level, and a progress line at most every few seconds."""
        clock = self._phases.setdefault(phase, _PhaseClock())
        elapsed = time.perf_counter() - clock.started
        rate = done / elapsed if elapsed > 0 else 0.0
        fields = {"phase": phase, "done": done, "total": total, "rows_per_s": round(rate, 1)}
        percent = f" ({100 * done / total:.0f}%)" if total else ""
        line = f"{phase}: {done:,}/{total:,}{percent}, {rate:,.0f} rows/s"
        now = time.perf_counter()
        if now - clock.last_line >= PLAIN_INTERVAL:
            clock.last_line = now
            log.info(line, extra=fields)
        else:
            log.debug(line, extra=fields)

    def finish_phase(self, phase: str, summary: str) -> None:
        """Log the end of ``phase`` with its duration."""
        clock = self._phases.pop(phase, _PhaseClock())
        seconds = time.perf_counter() - clock.started
        log.info(
            "%s: done in %.1f s — %s", phase, seconds, summary, extra={"phase": phase, "seconds": round(seconds, 3)}
        )

    def close(self) -> None:
        """Nothing to stop."""
