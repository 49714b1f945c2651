"""``python -m bench backup_rss``: `backups export` and `backups import` stream — peak RSS stays flat with size.

For each size (default 100,000 and 1,000,000 calls) one v1 template is seeded; a copy of it gets a backup
(``create_backup``, in this process: not measured), which the CLI exports to a scratch directory; the
export is then imported by the CLI into another fresh copy of the template. Each CLI run is its own child
process, and its peak RSS is that child's ``ru_maxrss`` from ``wait4`` (bench/project.py). As a
floor, ``backups list`` on the same database: the same interpreter, imports and connection, no data.

"Flat" means: the peak RSS at the largest size is within a few MB of the smallest, while the
files grow 10x. A client that held a table in memory would grow by the table's size (hundreds of MB).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.common import drop_database, machine, make_v1_template, scratch_database, seed_spec, server_settings
from bench.project import error_line, run_measured
from voice_migration.migration.backup import create_backup

DEFAULT_SIZES = (100_000, 1_000_000)
MB = 1024 * 1024


@dataclass(frozen=True)
class Measured:
    """One CLI run: wall seconds and the child's peak RSS."""

    seconds: float
    peak_rss_mb: float

    def as_dict(self) -> dict[str, float]:
        """JSON form."""
        return {"seconds": round(self.seconds, 2), "peak_rss_mb": round(self.peak_rss_mb, 1)}


def _measure(url: str, args: list[str]) -> Measured:
    code, seconds, rss, _, stderr = run_measured(url, args)
    if code != 0:
        raise RuntimeError(f"voice-migration {' '.join(args[:2])} failed (exit {code}): {error_line(stderr)}")
    return Measured(seconds, rss)


def _one_size(base_url: str, calls: int) -> dict[str, Any]:
    template, _ = make_v1_template(base_url, calls)
    scratch = Path(tempfile.mkdtemp(prefix="bench_backup_rss_"))
    try:
        with scratch_database(base_url, "bench_rss_src", template) as source:
            with psycopg.connect(source, autocommit=True) as conn:
                info = create_backup(conn)
            floor = _measure(source, ["backups", "list"])
            exported = _measure(source, ["backups", "export", info.backup_id, "--to", str(scratch)])
            export_bytes = sum(f.stat().st_size for f in (scratch / info.backup_id).glob("*.copy"))
            with scratch_database(base_url, "bench_rss_dst", template) as target:
                imported = _measure(target, ["backups", "import", str(scratch / info.backup_id)])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        drop_database(base_url, template)
    spec = seed_spec(calls)
    return {
        "calls": calls,
        "configs": spec.configs,
        "tenants": spec.tenants,
        "export_bytes": export_bytes,
        "floor_backups_list": floor.as_dict(),
        "export": exported.as_dict(),
        "import": imported.as_dict(),
    }


def run(base_url: str, sizes: Sequence[int] = DEFAULT_SIZES) -> dict[str, Any]:
    """Measure every size in one run; return the result document (sizes, ratios, server, machine)."""
    document: dict[str, Any] = {
        "benchmark": "backup_rss",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_settings": server_settings(base_url),
        "machine": machine(),
        "sizes": [],
    }
    for calls in sizes:
        document["sizes"].append(_one_size(base_url, calls))
    smallest, largest = document["sizes"][0], document["sizes"][-1]
    document["growth"] = {
        "calls": largest["calls"] / smallest["calls"],
        "export_peak_rss_mb": round(largest["export"]["peak_rss_mb"] - smallest["export"]["peak_rss_mb"], 1),
        "import_peak_rss_mb": round(largest["import"]["peak_rss_mb"] - smallest["import"]["peak_rss_mb"], 1),
        "export_bytes_mb": round((largest["export_bytes"] - smallest["export_bytes"]) / MB, 1),
    }
    return document


def markdown(document: dict[str, Any]) -> str:
    """The result table: one row per size, peak RSS of each CLI run beside the size of the files."""
    lines = [
        f"`backups export` / `backups import` peak RSS (child's ru_maxrss), measured {document['created_at']}; "
        f"PostgreSQL {document['server_settings'].get('server_version', '?')}, "
        f"{document['machine'].get('cpus', '?')} CPUs, load average at start "
        f"{document['machine'].get('loadavg_at_start', '?')}.",
        "",
        "| calls | export files MB | floor: `backups list` RSS MB | export s | export peak RSS MB "
        "| import s | import peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in document["sizes"]:
        lines.append(
            f"| {size['calls']:,} | {size['export_bytes'] / MB:,.1f} | {size['floor_backups_list']['peak_rss_mb']:.1f} "
            f"| {size['export']['seconds']:.1f} | {size['export']['peak_rss_mb']:.1f} "
            f"| {size['import']['seconds']:.1f} | {size['import']['peak_rss_mb']:.1f} |"
        )
    g = document["growth"]
    lines += [
        "",
        f"From the smallest to the largest size ({g['calls']:.0f}x the calls, "
        f"+{g['export_bytes_mb']:,.0f} MB of files): export peak RSS {g['export_peak_rss_mb']:+.1f} MB, "
        f"import {g['import_peak_rss_mb']:+.1f} MB.",
    ]
    return "\n".join(lines)
