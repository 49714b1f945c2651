"""Smoke test of ``python -m bench backup_rss``: on tiny data it exports, imports and records both peaks."""

from __future__ import annotations

from bench import backup_rss
from tests.helpers import Server


def test_backup_rss_bench_measures_export_and_import_at_each_size(pg_server: Server) -> None:
    document = backup_rss.run(pg_server.url("postgres"), (500, 2_000))
    small, large = document["sizes"]
    assert (small["calls"], large["calls"]) == (500, 2_000)
    assert large["export_bytes"] > small["export_bytes"] > 0
    for size in (small, large):
        for run in ("floor_backups_list", "export", "import"):
            assert size[run]["peak_rss_mb"] > 0 and size[run]["seconds"] > 0
    table = backup_rss.markdown(document)
    assert "| 2,000 |" in table and "export peak RSS" in table
