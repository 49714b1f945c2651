"""Contender "limit": hand-written SQL doing the same core work as ``migrate``, calling no project function.

On a fresh copy of the v1 data, one pass per table: a ``CREATE TABLE AS`` backup of tenants, configs and
calls; the v2 schema (the very Alembic revisions ``migrate`` applies, without their backfill: both need
the columns); one ``UPDATE`` of the configs (``jsonb_build_object`` and regex, the language map, prompt
lines and keywords hard-coded from today's ``sql/catalogs``); one ``UPDATE`` of the calls (one ``CASE``
with today's outcome map and rules); one ``percentile_cont`` metrics ``CREATE TABLE AS``
(``bench/sql/limit_*.sql``). Its metrics are copied into ``voice_agent_metrics`` after the clock stops,
so the benchmark compares the same checksums (``bench.common.result_checksum``) with ``migrate``'s:
equal output is what shows both did the same work. Rules a DBA adds are not in it (they are data for
``migrate``, hard-coded here): it is a yardstick for today's rules, not a second implementation.
"""

from __future__ import annotations

from bench import bare

STEPS: tuple[tuple[str, str | None], ...] = (
    ("backup", "limit_backup"),
    ("revisions", None),
    ("transform configs", "limit_configs"),
    ("infer outcomes", "limit_calls"),
    ("metrics", "limit_metrics"),
)
UNTIMED_AFTER = ("limit_metrics_publish",)


def run(url: str) -> bare.BareRun:
    """Measure the honest limit on the database at ``url`` (a fresh copy of the v1 data)."""
    return bare.run(url, STEPS, UNTIMED_AFTER)
