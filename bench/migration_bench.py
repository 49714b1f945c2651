"""Throughput benchmark: this project against the honest limit, the batching overhead and row by row.

For each size (calls; configs = calls/100, tenants = configs/10, the messy v1 cases planted), the data
is seeded once into a template database; then, ``runs`` times, each contender gets its own copy of it
and is measured in turn (project, limit, batching overhead, row-by-row: interleaved, so a noisy neighbour on the machine
hurts all of them alike). Ratios are taken per run, side by side, and their median is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TypeVar

from bench import bare, limit, project, row_by_row
from bench.common import (
    checkpoint,
    drop_database,
    machine,
    make_v1_template,
    median,
    scratch_database,
    seed_spec,
    server_settings,
)

# "limit": hand-written SQL, no project function (bench/limit.py); "batching_overhead": one statement per
# table over the project's own derive functions (bench/bare.py, the contender once called "bare").
CONTENDERS = ("project", "limit", "batching_overhead", "row_by_row")
# Not a contender of the issue, measured on request: PostgreSQL's floor for rewriting every call in place.
EXTRA_CONTENDERS = ("update_floor",)
T = TypeVar("T")


@dataclass(frozen=True)
class MigrationBenchOptions:
    """What to measure: sizes, runs per size, the row-by-row sample, which contenders."""

    sizes: tuple[int, ...] = (100_000, 1_000_000)
    runs: int = 3
    sample: int = 2_000
    contenders: tuple[str, ...] = CONTENDERS
    migrate_args: tuple[str, ...] = ()  # extra `migrate` options for the project contender


def _measure(base_url: str, template: str, prefix: str, work: Callable[[str], T]) -> T:
    checkpoint(base_url)
    with scratch_database(base_url, prefix, template) as url:
        return work(url)


def _summary_project(runs: Sequence[project.ProjectRun], calls: int, rows: int) -> dict[str, object]:
    steps = sorted({name for r in runs for name in r.steps})
    seconds = median([r.seconds for r in runs])
    return {
        "runs": [asdict(r) for r in runs],
        "median": {
            "seconds": seconds,
            "steps": {name: median([r.steps.get(name, 0.0) for r in runs]) for name in steps},
            "other_seconds": median([r.seconds - sum(r.steps.values()) for r in runs]),
            "peak_rss_mb": median([r.peak_rss_mb for r in runs]),
            "max_peak_rss_mb": max(r.peak_rss_mb for r in runs),
            "wal_bytes": median([r.wal_bytes for r in runs]),
            "size_growth_bytes": median([r.size_growth_bytes for r in runs]),
            "calls_per_second": calls / seconds if seconds else 0.0,
            "rows_per_second": rows / seconds if seconds else 0.0,
        },
        "failed_runs": [{"exit_code": r.exit_code, "error": r.error} for r in runs if r.exit_code != 0],
    }


def _summary_bare(
    runs: Sequence[bare.BareRun], calls: int, rows: int, steps: tuple[tuple[str, str | None], ...]
) -> dict[str, object]:
    seconds = median([r.seconds for r in runs])
    return {
        "runs": [asdict(r) for r in runs],
        "median": {
            "seconds": seconds,
            "steps": {name: median([r.steps[name] for r in runs]) for name, _ in steps},
            "other_seconds": median([r.seconds - sum(r.steps.values()) for r in runs]),
            "wal_bytes": median([r.wal_bytes for r in runs]),
            "size_growth_bytes": median([r.size_growth_bytes for r in runs]),
            "calls_per_second": calls / seconds if seconds else 0.0,
            "rows_per_second": rows / seconds if seconds else 0.0,
        },
    }


def _summary_row_by_row(runs: Sequence[row_by_row.RowByRowRun]) -> dict[str, object]:
    return {
        "runs": [asdict(r) for r in runs],
        "median": {
            "rows": runs[0].rows,
            "seconds": median([r.seconds for r in runs]),
            "rows_per_second": median([r.rows_per_second for r in runs]),
            "agreement": min(r.agreement for r in runs),
        },
    }


def bench_size(base_url: str, calls: int, options: MigrationBenchOptions) -> dict[str, object]:
    """Measure every contender ``options.runs`` times on copies of one seeded data set of ``calls`` calls."""
    spec = seed_spec(calls)
    template, seed_seconds = make_v1_template(base_url, calls)
    project_runs: list[project.ProjectRun] = []
    bare_runs: list[bare.BareRun] = []
    limit_runs: list[bare.BareRun] = []
    rbr_runs: list[row_by_row.RowByRowRun] = []
    floor_runs: list[float] = []
    try:
        for _ in range(options.runs):
            if "project" in options.contenders:
                project_runs.append(
                    _measure(base_url, template, "bench_project", lambda url: project.run(url, options.migrate_args))
                )
            if "limit" in options.contenders:
                limit_runs.append(_measure(base_url, template, "bench_limit", limit.run))
            if "batching_overhead" in options.contenders:
                bare_runs.append(_measure(base_url, template, "bench_bare", bare.run))
            if "row_by_row" in options.contenders:
                rbr_runs.append(
                    _measure(base_url, template, "bench_rbr", lambda url: row_by_row.run(url, options.sample))
                )
            if "update_floor" in options.contenders:
                floor_runs.append(_measure(base_url, template, "bench_floor", bare.update_floor))
    finally:
        drop_database(base_url, template)
    rows = spec.calls + spec.configs
    result: dict[str, object] = {
        "calls": spec.calls,
        "configs": spec.configs,
        "tenants": spec.tenants,
        "seed_seconds": seed_seconds,
    }
    ratios: dict[str, float] = {}
    if project_runs:
        result["project"] = _summary_project(project_runs, spec.calls, rows)
    if limit_runs:
        result["limit"] = _summary_bare(limit_runs, spec.calls, rows, limit.STEPS)
    if bare_runs:
        result["batching_overhead"] = _summary_bare(bare_runs, spec.calls, rows, bare.STEPS)
    if rbr_runs:
        result["row_by_row"] = _summary_row_by_row(rbr_runs)
    if floor_runs:
        seconds = median(floor_runs)
        result["update_floor"] = {
            "runs": floor_runs,
            "median": {"seconds": seconds, "calls_per_second": spec.calls / seconds},
        }
    same: list[bool] = []
    for key, others in (("limit", limit_runs), ("batching_overhead", bare_runs)):
        if project_runs and others:
            pairs = list(zip(project_runs, others, strict=True))
            ratios[f"project_over_{key}"] = median([p.seconds / b.seconds for p, b in pairs])
            # Per step, side by side: which part of migrate is how far from the same part of the contender.
            for name in {n for b in others for n in b.steps}:
                ratios[f"{name}_over_{key}"] = median(
                    [p.steps[name] / b.steps[name] for p, b in pairs if name in p.steps and b.steps[name] > 0]
                )
            result[f"same_result_as_{key}"] = all(p.checksum == b.checksum for p, b in pairs)
            same.append(result[f"same_result_as_{key}"])  # type: ignore[arg-type]
    if same:
        result["same_result"] = all(same)
    if project_runs and rbr_runs:
        # Speed-up in rows/s, per run: the project's calls/s end to end over the baseline's rows/s.
        ratios["project_over_row_by_row"] = median(
            [(spec.calls / p.seconds) / r.rows_per_second for p, r in zip(project_runs, rbr_runs, strict=True)]
        )
    result["ratios"] = ratios
    return result


def run(base_url: str, options: MigrationBenchOptions) -> dict[str, object]:
    """The whole throughput benchmark on the server at ``base_url``; returns the result document."""
    started = time.perf_counter()
    sizes = [bench_size(base_url, calls, options) for calls in options.sizes]
    return {
        "benchmark": "migration",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "server_settings": server_settings(base_url),
        "runs_per_size": options.runs,
        "row_by_row_sample": options.sample,
        "contenders": list(options.contenders),
        "migrate_args": list(options.migrate_args),
        "sizes": sizes,
        "total_seconds": time.perf_counter() - started,
    }
