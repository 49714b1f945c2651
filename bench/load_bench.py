"""Latency under load: the v1 application's writes before and while ``voice-migration migrate`` runs.

On a seeded v1 database, the load generator (:mod:`bench.loadgen`, its own process) starts writing;
after ``before`` seconds ``migrate --yes`` starts; a few seconds after it ends the generator is told to
stop (it stops by itself at :data:`bench.loadgen.MAX_SECONDS` in any case). Each write is put in the
window it was due in — before, during or after the migration — and each window reports its count,
failed writes, p50, p99 and max latency. The slowest writes during the migration are listed with the
``migrate`` step that was running when they were due, so a latency spike points at its cause.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import loadgen, project
from bench.common import (
    BENCH_DIR,
    drop_database,
    machine,
    make_v1_template,
    percentile,
    scratch_database,
    server_settings,
)

DEFAULT_CALLS = 200_000
DEFAULT_BEFORE = 20.0
AFTER_SECONDS = 5.0
SLOWEST = 10


@dataclass(frozen=True)
class LoadBenchOptions:
    """The data size, the write rate, how long to measure before ``migrate``, the hard limit."""

    calls: int = DEFAULT_CALLS
    rate: float = loadgen.DEFAULT_RATE
    before: float = DEFAULT_BEFORE
    max_seconds: float = loadgen.MAX_SECONDS


def window_summary(samples: Sequence[dict[str, object]], seconds: float) -> dict[str, object]:
    """Count, failed writes, achieved rate and latency quantiles of the writes of one window."""
    latencies = [float(s["latency_ms"]) for s in samples]  # type: ignore[arg-type]
    by_kind = {}
    for kind in sorted({str(s["kind"]) for s in samples}):
        of_kind = [float(s["latency_ms"]) for s in samples if s["kind"] == kind]  # type: ignore[arg-type]
        by_kind[kind] = {
            "writes": len(of_kind),
            "p50_ms": percentile(of_kind, 0.5),
            "p99_ms": percentile(of_kind, 0.99),
        }
    errors = [s for s in samples if not s["ok"]]
    return {
        "writes": len(samples),
        "errors": len(errors),
        "error_examples": sorted({str(s["error"]) for s in errors})[:5],
        "seconds": seconds,
        "writes_per_second": len(samples) / seconds if seconds > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=0.0),
        "by_kind": by_kind,
    }


def step_intervals(json_log: str) -> list[dict[str, object]]:
    """The (step, start, end) Unix times of each ``migrate`` step, from its ``--log-format json`` log."""
    started: dict[str, float] = {}
    intervals: list[dict[str, object]] = []
    for line in json_log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "phase" not in record or "ts" not in record:
            continue
        at = datetime.fromisoformat(str(record["ts"])).timestamp()
        phase = str(record["phase"])
        if "seconds" in record:
            begin = started.get(phase, at - float(record["seconds"]))
            intervals.append({"step": phase, "start": begin, "end": at})
        elif phase not in started:
            started[phase] = at
    return intervals


def _step_at(intervals: Sequence[dict[str, object]], when: float) -> str:
    for interval in intervals:
        if float(interval["start"]) <= when <= float(interval["end"]):  # type: ignore[arg-type]
            return str(interval["step"])
    return "between steps (start-up, planning, summary)"


def _slow_write(
    sample: dict[str, object], migrate_started: float, intervals: Sequence[dict[str, object]]
) -> dict[str, object]:
    due = float(sample["due"])  # type: ignore[arg-type]
    return {
        "latency_ms": sample["latency_ms"],
        "kind": sample["kind"],
        "ok": sample["ok"],
        "at_migration_second": due - migrate_started,
        "step": _step_at(intervals, due),
    }


def run(base_url: str, options: LoadBenchOptions) -> dict[str, object]:
    """The latency-under-load benchmark on the server at ``base_url``; returns the result document."""
    template, _ = make_v1_template(base_url, options.calls)
    try:
        with scratch_database(base_url, "bench_load", template) as url, tempfile.TemporaryDirectory() as tmp:
            samples_path = Path(tmp) / "samples.json"
            generator = subprocess.Popen(
                [sys.executable, "-m", "bench", "loadgen", "--database-url", url, "--rate", str(options.rate),
                 "--seconds", str(options.max_seconds), "--samples", str(samples_path)],
                cwd=BENCH_DIR.parent, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                time.sleep(options.before)
                migrate_started = time.time()
                code, seconds, rss, stdout, stderr = project.run_migrate(url)
                migrate_ended = time.time()
                time.sleep(AFTER_SECONDS)
            finally:
                if generator.poll() is None:
                    os.kill(generator.pid, signal.SIGTERM)
                generator.wait(timeout=loadgen.DRAIN_SECONDS + 30)
            samples: list[dict[str, object]] = json.loads(samples_path.read_text(encoding="utf-8"))
    finally:
        drop_database(base_url, template)
    dues = [float(s["due"]) for s in samples if s["kind"] != "unfinished"]  # type: ignore[arg-type]
    # The windows start at the first write, not at the launch (the generator's start-up is not load).
    load_started, load_ended = min(dues, default=migrate_started), max(dues, default=migrate_ended)
    windows = {
        "before": (load_started, migrate_started),
        "during": (migrate_started, migrate_ended),
        "after": (migrate_ended, load_ended),
    }
    intervals = step_intervals(stderr)
    during = [s for s in samples if migrate_started <= float(s["due"]) < migrate_ended]  # type: ignore[arg-type]
    slowest = sorted(during, key=lambda s: float(s["latency_ms"]), reverse=True)[:SLOWEST]  # type: ignore[arg-type]
    return {
        "benchmark": "load",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "server_settings": server_settings(base_url),
        "calls": options.calls,
        "rate": options.rate,
        "connections": loadgen.CONNECTIONS,
        "migrate": {
            "exit_code": code,
            "seconds": seconds,
            "peak_rss_mb": rss,
            "steps": intervals,
            "summary": stdout[-3000:],
            "error": project.error_line(stderr) if code else "",
        },
        "load_covered_migration": load_ended >= migrate_ended,
        "windows": {
            name: window_summary([s for s in samples if lo <= float(s["due"]) < hi], hi - lo)  # type: ignore[arg-type]
            for name, (lo, hi) in windows.items()
        },
        "during_by_step": {
            str(i["step"]): window_summary(
                [s for s in during if float(i["start"]) <= float(s["due"]) < float(i["end"])],  # type: ignore[arg-type]
                float(i["end"]) - float(i["start"]),  # type: ignore[arg-type]
            )
            for i in intervals
        },
        "unfinished_writes": sum(1 for s in samples if s["kind"] == "unfinished"),
        "slowest_during": [_slow_write(s, migrate_started, intervals) for s in slowest],
    }
