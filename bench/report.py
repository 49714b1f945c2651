"""Result files: the JSON document as measured, and a short markdown table for docs and the README."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MB = 1024 * 1024
# The one-statement-per-table contenders, as the tables name them.
CONTENDER_LABELS: tuple[tuple[str, str], ...] = (
    ("limit", "honest limit (hand-written SQL, no project function)"),
    ("batching_overhead", "batching overhead (one statement per table over the project's functions)"),
)


def write(directory: Path, name: str, document: Mapping[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``directory``; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{name}.json"
    md_path = directory / f"{name}.md"
    json_path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown + "\n", encoding="utf-8")
    return json_path, md_path


def _settings_line(document: Mapping[str, Any]) -> str:
    s = document.get("server_settings", {})
    keys = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "work_mem")
    m = document.get("machine", {})
    return (
        f"PostgreSQL {', '.join(f'{k}={s.get(k, chr(63))}' for k in keys)}; "
        f"{m.get('cpus', '?')} CPUs, load average at start {m.get('loadavg_at_start', '?')}; "
        f"measured {document.get('created_at', '?')}."
    )


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def migration_markdown(document: Mapping[str, Any]) -> str:
    """The throughput table: one row per size and contender (medians), then the per-step table."""
    runs = document["runs_per_size"]
    lines = [
        f"Medians of {runs} run{'s' if runs != 1 else ''} per size, each contender on its own copy of the same data. "
        + _settings_line(document),
        "",
        "| calls | contender | wall s | calls/s | rows/s | peak RSS MB | WAL MB | DB growth MB | project ÷ this |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in document["sizes"]:
        calls, ratios = size["calls"], size.get("ratios", {})
        if "project" in size:
            m = size["project"]["median"]
            lines.append(
                f"| {calls:,} | project (`migrate --yes`) | {_fmt(m['seconds'])} | {_fmt(m['calls_per_second'], 0)} | "
                f"{_fmt(m['rows_per_second'], 0)} | {_fmt(m['peak_rss_mb'])} | {_fmt(m['wal_bytes'] / MB, 0)} | "
                f"{_fmt(m['size_growth_bytes'] / MB, 0)} | 1 |"
            )
        for key, label in CONTENDER_LABELS:
            if key not in size:
                continue
            m = size[key]["median"]
            ratio = ratios.get(f"project_over_{key}")
            lines.append(
                f"| {calls:,} | {label} | {_fmt(m['seconds'])} | {_fmt(m['calls_per_second'], 0)} | "
                f"{_fmt(m['rows_per_second'], 0)} | – | {_fmt(m['wal_bytes'] / MB, 0)} | "
                f"{_fmt(m['size_growth_bytes'] / MB, 0)} | {'–' if ratio is None else _fmt(ratio, 2)} (time) |"
            )
        if "row_by_row" in size:
            m = size["row_by_row"]["median"]
            ratio = ratios.get("project_over_row_by_row")
            lines.append(
                f"| {calls:,} | row by row ({m['rows']:,}-call sample) | {_fmt(m['seconds'])} | "
                f"{_fmt(m['rows_per_second'], 0)} | {_fmt(m['rows_per_second'], 0)} | – | – | – | "
                f"{'–' if ratio is None else _fmt(ratio, 0) + '× faster'} (rows/s) |"
            )
        if "update_floor" in size:
            m = size["update_floor"]["median"]
            lines.append(
                f"| {calls:,} | floor: one constant `UPDATE` of every call | {_fmt(m['seconds'])} | "
                f"{_fmt(m['calls_per_second'], 0)} | – | – | – | – | – |"
            )
    if not any(key in size for size in document["sizes"] for key in ("project", "limit", "batching_overhead")):
        return "\n".join(lines)
    lines += ["", "Seconds per step (medians):", ""]
    steps = ["validate v1", "backup", "revisions", "transform configs", "infer outcomes", "metrics", "verify"]
    lines.append("| calls | contender | " + " | ".join(steps) + " | other |")
    lines.append("|---:|---|" + "---:|" * (len(steps) + 1))
    for size in document["sizes"]:
        for key, label in (("project", "project"), ("limit", "limit"), ("batching_overhead", "batching overhead")):
            if key not in size:
                continue
            m = size[key]["median"]
            cells = [_fmt(m["steps"][s], 2) if s in m["steps"] else "–" for s in steps]
            lines.append(
                f"| {size['calls']:,} | {label} | " + " | ".join(cells) + f" | {_fmt(m['other_seconds'], 2)} |"
            )
    if document.get("migrate_args"):
        lines += ["", f"The project ran as `migrate --yes {' '.join(document['migrate_args'])}`."]
    for size in document["sizes"]:
        for failed in size.get("project", {}).get("failed_runs", []):
            lines.append(f"FAILED at {size['calls']:,} calls (exit {failed['exit_code']}): {failed['error']}")
    lines.append("")
    for key, label in CONTENDER_LABELS:
        same = [s[f"same_result_as_{key}"] for s in document["sizes"] if f"same_result_as_{key}" in s]
        if same:
            lines.append(f"Project and {label} produced identical v2 data (checksums) in every run: {all(same)}.")
    agreement = [s["row_by_row"]["median"]["agreement"] for s in document["sizes"] if "row_by_row" in s]
    if agreement:
        lines.append(f"Row-by-row rows agreeing with the SQL transform: {min(agreement):.1%} (lowest).")
    return "\n".join(lines)


def render(json_path: Path) -> Path:
    """Rewrite the markdown table next to a result file from its JSON (after a change of the table's layout)."""
    document = json.loads(json_path.read_text(encoding="utf-8"))
    markdown = migration_markdown(document) if document["benchmark"] == "migration" else load_markdown(document)
    md_path = json_path.with_suffix(".md")
    md_path.write_text(markdown + "\n", encoding="utf-8")
    return md_path


def load_markdown(document: Mapping[str, Any]) -> str:
    """The latency table: one row per window (before, during, after the migration)."""
    migrate = document["migrate"]
    lines = [
        f"v1 application load at {document['rate']:.0f} writes/s ({document['connections']} connections, 4 call "
        f"inserts : 1 config update) on {document['calls']:,} calls; `migrate --yes` took "
        f"{migrate['seconds']:.1f} s and exited {migrate['exit_code']}. " + _settings_line(document),
        "",
        *([f"`migrate` said: {migrate['error']}", ""] if migrate.get("error") else []),
        "| window | writes | failed | writes/s | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, w in document["windows"].items():
        lines.append(
            f"| {name} the migration | {w['writes']:,} | {w['errors']} | {_fmt(w['writes_per_second'])} | "
            f"{_fmt(w['p50_ms'])} | {_fmt(w['p99_ms'])} | {_fmt(w['max_ms'])} |"
        )
    if document.get("during_by_step"):
        lines += ["", "Writes during each step of the migration:", ""]
        lines += [
            "| step | seconds | writes | failed | p50 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for step, w in document["during_by_step"].items():
            lines.append(
                f"| {step} | {_fmt(w['seconds'])} | {w['writes']:,} | {w['errors']} | {_fmt(w['p50_ms'])} | "
                f"{_fmt(w['p99_ms'])} | {_fmt(w['max_ms'])} |"
            )
    if document["slowest_during"]:
        lines += ["", "Slowest writes during the migration:", ""]
        lines += ["| latency ms | write | second of the migration | step running |", "|---:|---|---:|---|"]
        for s in document["slowest_during"][:5]:
            lines.append(f"| {_fmt(s['latency_ms'])} | {s['kind']} | {_fmt(s['at_migration_second'])} | {s['step']} |")
    return "\n".join(lines)
