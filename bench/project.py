"""Contender 1, this project: ``voice-migration migrate --yes`` end to end, as an operator runs it.

The CLI runs as a child process on a fresh copy of the v1 data. Its wall time is measured from the
outside; the time of each step comes from its own JSON log (``--log-format json``: one ``done``
record per step with ``seconds``); its peak RSS from ``wait4`` (``ru_maxrss`` of that child alone).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.common import Stopwatch, clean_environment, result_checksum, snapshot, wal_bytes


@dataclass(frozen=True)
class ProjectRun:
    """One ``migrate --yes`` run: wall time, each step's seconds, peak RSS, WAL and size growth."""

    seconds: float
    steps: dict[str, float]
    peak_rss_mb: float
    wal_bytes: int
    size_growth_bytes: int
    exit_code: int
    error: str = ""  # the CLI's one-line error when it failed
    checksum: dict[str, str] = field(default_factory=dict)


def cli_command() -> list[str]:
    """The ``voice-migration`` console script of this environment (``python -m voice_migration`` otherwise)."""
    script = Path(sys.executable).with_name("voice-migration")
    if script.is_file():
        return [str(script)]
    found = shutil.which("voice-migration")
    return [found] if found else [sys.executable, "-m", "voice_migration"]


def step_seconds(json_log: str) -> dict[str, float]:
    """The ``seconds`` of every finished step in a ``--log-format json`` log, by step name."""
    steps: dict[str, float] = {}
    for line in json_log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the plan and the summary are plain text
        if isinstance(record, dict) and "seconds" in record and "phase" in record:
            steps[str(record["phase"])] = float(record["seconds"])
    return steps


def run_migrate(url: str, *, extra_args: tuple[str, ...] = ()) -> tuple[int, float, float, str, str]:
    """Run ``voice-migration migrate --yes`` on ``url``; return (exit code, seconds, peak RSS MB, stdout, stderr)."""
    return run_measured(url, ["migrate", "--yes", "--log-format", "json", *extra_args])


def run_measured(url: str, args: list[str]) -> tuple[int, float, float, str, str]:
    """Run ``voice-migration ARGS`` on ``url``; return (exit code, seconds, peak RSS MB, stdout, stderr)."""
    argv = [*cli_command(), *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        clock = Stopwatch()
        child = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=clean_environment(url))
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the max over every child so far).
        _, status, usage = os.wait4(child.pid, 0)
        seconds = clock.seconds
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return child.returncode, seconds, usage.ru_maxrss / 1024, out.read(), err.read()


def error_line(stderr: str) -> str:
    """The CLI's one-line ``error: ...`` message (the last line of ``stderr`` when there is none)."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [""])[-1]


def run(url: str, extra_args: tuple[str, ...] = ()) -> ProjectRun:
    """Measure one ``migrate --yes [extra_args]`` on the database at ``url`` (a fresh copy of the v1 data).

    A failed run is measured too (its time to failure) and carries the CLI's error line.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        before = snapshot(conn)
        code, seconds, rss, _, stderr = run_migrate(url, extra_args=extra_args)
        after = snapshot(conn)
        return ProjectRun(
            seconds=seconds,
            steps=step_seconds(stderr),
            peak_rss_mb=rss,
            wal_bytes=wal_bytes(conn, before, after),
            size_growth_bytes=after.size_bytes - before.size_bytes,
            exit_code=code,
            error=error_line(stderr) if code else "",
            checksum=result_checksum(conn) if code == 0 else {},
        )
