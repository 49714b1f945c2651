"""Contender 3, the row-by-row baseline: what the original TypeScript script did, on a sample.

For each sampled call: fetch the row (one round trip), work out its outcome in Python, ``UPDATE`` it
(one round trip, committed on its own, like one REST call per row). Reported as rows/s.

The Python transform re-implements the outcome rules on purpose (it stands for the old script's own
code): it reads the rule tables once and applies them the way ``derive_call_outcomes`` does. After
the timed loop, the rows it wrote are compared with the SQL function's answer (``agreement``), to show
the baseline did the same work and not a cheaper one. The dual-write trigger is skipped with the same
transaction setting the backfill uses, so the baseline pays for its round trips, not for our trigger.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from bench.common import Stopwatch, bench_sql, upgrade_schema

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Rules:
    """The outcome rules as the old script would have held them in memory."""

    legacy: dict[str, str]
    ordered: tuple[tuple[str, str, str], ...]  # (stage, match, outcome_code), by priority


@dataclass(frozen=True)
class RowByRowRun:
    """One baseline run: rows done, seconds, rows/s, and how many rows agree with the SQL transform."""

    rows: int
    seconds: float
    rows_per_second: float
    agreement: float


def fold_text(text: str) -> str:
    """``voice_migration.fold_text`` in Python: accents dropped, lower case, words padded with spaces."""
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not 0x300 <= ord(ch) <= 0x36F)
    return " " + _NOT_ALNUM.sub(" ", stripped.lower()).strip() + " "


def normalize_key(text: str) -> str:
    """``voice_migration.normalize_key`` in Python: letters and digits only."""
    return fold_text(text).replace(" ", "")


def load_rules(conn: psycopg.Connection[tuple[object, ...]]) -> Rules:
    """Read the legacy outcome map and the inference rules once."""
    legacy = {str(k): str(v) for k, v in conn.execute(bench_sql("rbr_legacy_map")).fetchall()}
    ordered = tuple((str(s), str(m), str(o)) for s, m, o in conn.execute(bench_sql("rbr_outcome_rules")).fetchall())
    return Rules(legacy, ordered)


def infer_outcome(row: dict[str, object], rules: Rules) -> tuple[str, str]:
    """(outcome_code, outcome_source) of one call: the legacy mapping, else the first matching rule."""
    manual = rules.legacy.get(normalize_key(str(row["outcome"] or "")))
    if manual is not None:
        return manual, "manual"
    status = normalize_key(str(row["status"] or ""))
    ended = normalize_key(str(row["ended_reason"] or ""))
    transcript = fold_text(str(row["transcript"] or ""))
    duration = row["duration_seconds"]
    for stage, match, code in rules.ordered:
        if (
            (stage == "status" and match == status)
            or (stage == "ended_reason" and match in ended)
            or (stage == "transcript" and " " + match in transcript)
            or (
                stage == "short_call"
                and status == "completed"
                and isinstance(duration, Decimal)
                and duration < Decimal(match)
            )
        ):
            return code, "inferred"
    return "other", "inferred"


def run(url: str, sample: int) -> RowByRowRun:
    """Bring a fresh copy of the v1 data to the v2 schema (not timed), then time ``sample`` calls row by row."""
    upgrade_schema(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET voice_migration.backfill = 'on'")
        rules = load_rules(conn)
        ids = [str(r[0]) for r in conn.execute(bench_sql("rbr_sample_ids"), {"n": sample}).fetchall()]
        clock = Stopwatch()
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            for call_id in ids:
                row = cur.execute(bench_sql("rbr_fetch_call"), {"id": call_id}).fetchone()
                assert row is not None
                code, source = infer_outcome(row, rules)
                cur.execute(bench_sql("rbr_update_call"), {"id": call_id, "code": code, "source": source})
        seconds = clock.seconds
        agreeing = conn.execute(bench_sql("rbr_agreement"), {"ids": ids}).fetchone()
        assert agreeing is not None
    return RowByRowRun(
        rows=len(ids),
        seconds=seconds,
        rows_per_second=len(ids) / seconds if seconds > 0 else 0.0,
        agreement=int(agreeing[0]) / len(ids) if ids else 1.0,
    )
