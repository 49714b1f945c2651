"""Compiled outcome rules (issue #16): rules stay data, run as generated CASEs, and stale compiles are refused.

Revision 0009 compiles ``voice_migration.outcome_rules`` and ``legacy_outcome_map`` into generated SQL
functions (``compile_rules``), recompiled by statement triggers whenever a rule row changes, and stamped
with ``rules_checksum()``; ``derive_call_outcomes`` v2 uses them. The same revision holds the one phase
registry and retry/halving policy both backfill drivers read (issue #13).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from voice_migration.infra.resources import sql_dir
from voice_migration.migration import backfill

Conn = psycopg.Connection[tuple[object, ...]]

# Every outcome / status / ended_reason / transcript / duration worth telling apart: the rules' own words in
# other spellings, accents, NULL and '', a refusal beside a booking, and durations around the threshold.
OUTCOMES = ["NULL", "''", "'Cita Agendada'", "'BOOKED'", "'no-interesado'", "'nonsense'", "'Other'"]
STATUSES = ["NULL", "''", "'completed'", "'Completed'", "'no-answer'", "'BUSY'", "'failed'", "'ringing'"]
ENDED = ["NULL", "'customer-ended-call'", "'voicemail-reached'", "'Call Transfer'", "'did-not-answer'", "'x'"]
TRANSCRIPTS = [
    "NULL",
    "''",
    "'Hola, no me interesa agendar una cita'",
    "'Su cita quedó agendada. ¡Gracias!'",
    "'please CALL me back tomorrow'",
    "'abrimos a las 9; horario de verano'",
    "'nada que ver'",
]
DURATIONS = ["NULL", "0", "9.99", "10", "10.01", "-5", "'NaN'", "'Infinity'", "'-Infinity'"]

CALLS = f"""
    SELECT ARRAY(
        SELECT jsonb_populate_record(NULL::public.voice_agent_calls, jsonb_build_object(
            'id', 'call_' || row_number() OVER (), 'tenant_id', 't1', 'config_id', 'c1',
            'outcome', o, 'status', s, 'ended_reason', e, 'transcript', t, 'duration_seconds', d))
        FROM (VALUES {", ".join(f"({v}::text)" for v in OUTCOMES)}) AS o (o),
             (VALUES {", ".join(f"({v}::text)" for v in STATUSES)}) AS s (s),
             (VALUES {", ".join(f"({v}::text)" for v in ENDED)}) AS e (e),
             (VALUES {", ".join(f"({v}::text)" for v in TRANSCRIPTS)}) AS t (t),
             (VALUES {", ".join(f"({v}::numeric)" for v in DURATIONS)}) AS d (d))
"""


@pytest.fixture()
def head_conn(head_database_url: str) -> Iterator[Conn]:
    """A database at head, with release 0.1's derive_call_outcomes (the joins) as pg_temp.derive_v1."""
    v1 = (Path(sql_dir()) / "objects" / "derive_call_outcomes" / "v1.sql").read_text(encoding="utf-8")
    v1 = v1.replace("FUNCTION voice_migration.derive_call_outcomes(", "FUNCTION pg_temp.derive_v1(")
    with psycopg.connect(head_database_url) as conn:
        conn.execute(v1.encode())
        conn.execute(f"CREATE TEMP TABLE calls AS {CALLS} AS a")
        yield conn


def outcomes(conn: Conn, function: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT d.* FROM calls, {function}(calls.a) AS d ORDER BY d.id").fetchall()


def test_the_compiled_rules_decide_every_call_exactly_as_the_rule_joins_did(head_conn: Conn) -> None:
    compiled = outcomes(head_conn, "voice_migration.derive_call_outcomes")
    assert len(compiled) == len(OUTCOMES) * len(STATUSES) * len(ENDED) * len(TRANSCRIPTS) * len(DURATIONS)
    assert compiled == outcomes(head_conn, "pg_temp.derive_v1")
    sources = {row[3] for row in compiled}
    codes = {row[2] for row in compiled}
    assert sources == {"manual", "inferred"}
    assert {"appointment_booked", "not_interested", "abandoned", "voicemail", "no_answer", "other"} <= codes


def test_a_rule_row_a_dba_inserts_is_compiled_in_the_same_transaction(head_conn: Conn) -> None:
    stamp = head_conn.execute("SELECT rules_checksum FROM voice_migration.rules_compiled()").fetchone()
    head_conn.execute(
        "INSERT INTO voice_migration.outcome_rules (priority, stage, match, outcome_code) "
        "VALUES (50, 'transcript', 'nada que ver', 'information_provided'), (60, 'short_call', '20', 'failed')"
    )
    after = head_conn.execute("SELECT rules_checksum FROM voice_migration.rules_compiled()").fetchone()
    assert after != stamp
    assert after == head_conn.execute("SELECT voice_migration.rules_checksum()").fetchone()
    compiled = outcomes(head_conn, "voice_migration.derive_call_outcomes")
    assert compiled == outcomes(head_conn, "pg_temp.derive_v1")
    assert any(row[2] == "information_provided" and row[3] == "inferred" for row in compiled)


def test_stale_compiled_rules_are_refused_until_compiled_again(head_conn: Conn) -> None:
    head_conn.execute("ALTER TABLE voice_migration.legacy_outcome_map DISABLE TRIGGER legacy_outcome_map_recompile")
    head_conn.execute("DELETE FROM voice_migration.legacy_outcome_map WHERE spelling_key = 'booked'")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="compiled outcome rules are stale"):
        outcomes(head_conn, "voice_migration.derive_call_outcomes")
    head_conn.rollback()
    head_conn.execute("ALTER TABLE voice_migration.outcome_rules DISABLE TRIGGER outcome_rules_recompile")
    head_conn.execute("UPDATE voice_migration.outcome_rules SET outcome_code = 'failed' WHERE priority = 110")
    head_conn.execute("SELECT voice_migration.compile_rules()")
    head_conn.execute(f"CREATE TEMP TABLE calls AS {CALLS} AS a")
    head_conn.execute((Path(sql_dir()) / "objects" / "derive_call_outcomes" / "v1.sql").read_text().replace(
        "FUNCTION voice_migration.derive_call_outcomes(", "FUNCTION pg_temp.derive_v1(").encode())  # fmt: skip
    assert outcomes(head_conn, "voice_migration.derive_call_outcomes") == outcomes(head_conn, "pg_temp.derive_v1")


def test_both_backfill_drivers_read_one_phase_registry_and_one_retry_policy(head_conn: Conn) -> None:
    assert backfill.phases(head_conn) == (
        ("configs", "transform configs"),
        ("calls", "infer outcomes"),
        ("metrics", "metrics"),
    )
    rules = backfill.policy(head_conn)
    assert rules.in_database and rules.default_batch_size == 5000 and rules.lock_attempts == 5
    pauses = head_conn.execute(
        "SELECT array_agg(voice_migration.backfill_pause(n) ORDER BY n) FROM generate_series(1, 5) AS n"
    )
    assert pauses.fetchone() == ([0.2, 0.4, 0.8, 1.6, None],)
    assert [backfill._pause(head_conn, rules, n) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.6, None]
    assert [backfill._halved(head_conn, rules, n) for n in (5000, 3, 2, 1)] == [2500, 1, 1, None]
    procedure = head_conn.execute(
        "SELECT pg_get_functiondef('voice_migration.backfill(integer, text[], integer)'::regprocedure)"
    ).fetchone()
    assert procedure is not None
    for uses in ("backfill_phases()", "backfill_policy()", "backfill_pause(", "backfill_halved("):
        assert uses in str(procedure[0])
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="unknown backfill phase") as refused:
        head_conn.execute("SELECT * FROM voice_migration.backfill_step('outcomes', 10)")
    assert refused.value.diag.message_hint == "use one of configs, calls, metrics"
