"""The messy v1 corpus plus hostile values: the migration completes, nothing is lost, every bad row is accounted for.

Hostile: NUL-free binary-ish text (every control character, C1 controls, noncharacters, the last code
point), 1 MB prompts and transcripts, SQL in ids and names, right-to-left overrides and stacked
combining marks, timestamps at PostgreSQL's limits and at ±infinity, NaN and huge numbers.
Each bad row must end normalised (migrated) or quarantined with a reason; counts are equal; every v1
column stays byte-identical; prompts reach ``personality.base_prompt`` verbatim.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.helpers import BATCH_SIZE, counts, invoke, scalar, v1_checksums

pytestmark = pytest.mark.reliability

SQL_ID = "'; DROP TABLE tenants; --"
RTL_ID = "\u05e9\u05dc\u05d5\u05dd\u202e-tenant"
CONTROL_ID = "tenant \t\x01\x1f\x7f control"

HOSTILE_ROWS = """
CREATE TEMP TABLE h ON COMMIT DROP AS SELECT
    (SELECT string_agg(chr(n), '') FROM generate_series(1, 31) AS n)
        || chr(127) || (SELECT string_agg(chr(n), '') FROM generate_series(128, 159) AS n)
        || chr(65534) || chr(65535) || chr(1114111) AS binaryish,
    repeat('Agenda citas y reservaciones. ¡Hola! 👩‍👩‍👧‍👦 \u202eevil\u202c ', 21000) AS megabyte,
    repeat('a' || repeat(chr(769), 40) || ' ', 25000) AS combining;

INSERT INTO tenants (id, name, created_at) VALUES
    (%(sql_id)s, 'Robert''); DROP TABLE voice_agent_configs;--', '-infinity'),
    (%(rtl_id)s, (SELECT combining FROM h), 'infinity'),
    (%(control_id)s, (SELECT binaryish FROM h), '4713-01-01 00:00:00+00 BC');

INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled, created_at, updated_at)
SELECT v.id, v.tenant_id, v.name, v.prompt, v.voice_id, v.language, true, v.created_at::timestamptz,
       v.updated_at::timestamptz
FROM h, LATERAL (VALUES
    ('cfg_h1', %(sql_id)s, 'mega', h.megabyte, 'voice_1', 'es_MX', '294276-12-31 23:59:59+00', 'infinity'),
    ('cfg_h2', %(rtl_id)s, h.binaryish, 'Responde preguntas frecuentes ' || h.binaryish, 'voice' || chr(1), 'en',
     '-infinity', '-infinity'),
    ('cfg_h3', %(control_id)s, 'Robert''); DROP TABLE voice_agent_configs;--',
     'SELECT * FROM pg_shadow; -- \u202e $$; DROP SCHEMA public CASCADE; $$', '$$; DROP $$', 'english',
     '0001-01-01 00:00:00+00 BC', '1970-01-01 00:00:00+00'),
    ('cfg_h4', %(sql_id)s, 'combining', h.combining, 'voice_2', 'עברית', '2000-01-01', '2000-01-01'),
    ('cfg_h5', %(rtl_id)s, 'lines',
     E'Saludo: ¡Hola! 👩‍👩‍👧‍👦\\nDespedida: adiós\\n- Sé breve\\n- Agenda citas', 'voice_3', 'es-419',
     '2024-02-29 23:59:59.999999+14', '2024-02-29'),
    ('cfg_h6', 'tenant_000001', 'bad language', 'Toma pedidos', 'voice_4', 'ES' || chr(769), '2024-01-01', NULL),
    ('cfg_h7', 'tenant_000001', 'whitespace voice', 'Toma pedidos', E' \\t\\n', 'es', NULL, NULL)
) AS v (id, tenant_id, name, prompt, voice_id, language, created_at, updated_at);

INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, ended_reason, duration_seconds,
                               latency_ms, outcome, transcript, created_at)
SELECT v.id, v.tenant_id, v.config_id, v.direction, v.status, v.ended_reason, v.duration::numeric,
       v.latency::numeric, v.outcome, v.transcript, v.created_at::timestamptz
FROM h, LATERAL (VALUES
    ('call_h1', %(sql_id)s, 'cfg_h1', 'ＩＮＢＯＵＮＤ', 'completed', h.binaryish, 'NaN', 'NaN',
     'Cita Agendada''; DROP TABLE x; --', h.megabyte, '-infinity'),
    ('call_h2', %(sql_id)s, 'cfg_h1', 'outbound', '\u202efailed', 'customer-ended-call', 'Infinity', '1e400',
     NULL, NULL, 'infinity'),
    ('call_h3', %(sql_id)s, 'cfg_h1', 'in', 'completed', NULL, '-5', '-1', 'NO ANSWER', h.combining,
     '294276-12-31 23:59:59+00'),
    ('call_h4', %(rtl_id)s, 'cfg_h5', 'outbound', 'busy', NULL, '1e20', '123.456', '', '', '4713-01-01 BC'),
    ('call_h5', %(control_id)s, 'cfg_h3', NULL, NULL, NULL, NULL, NULL, h.binaryish, h.binaryish, NULL),
    ('call_h6', 'tenant_000001', 'cfg_h6', 'inbound', 'completed', 'voicemail', '3', '10', NULL, NULL, now()),
    ('call_h7', %(sql_id)s, 'cfg_h1', 'in', 'completed', NULL, '1e-400', '1e-400', NULL, NULL, now())
) AS v (id, tenant_id, config_id, direction, status, ended_reason, duration, latency, outcome, transcript, created_at);
"""


def test_hostile_values_are_migrated_or_quarantined_and_nothing_is_lost(seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        for statement in HOSTILE_ROWS.split(";\n\n"):  # one transaction; values as parameters
            conn.execute(statement.encode(), {"sql_id": SQL_ID, "rtl_id": RTL_ID, "control_id": CONTROL_ID})
        conn.commit()
        v1_before = v1_checksums(conn)
    before = counts(seeded_url)
    assert scalar(seeded_url, "SELECT max(length(prompt)) FROM voice_agent_configs") >= 1_000_000  # type: ignore[operator]

    result = invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=seeded_url)

    assert result.exit_code == 0, result.output
    assert counts(seeded_url) == before
    # The rollout's health figures read the same calls (their last 24 h) and must not choke either.
    status = invoke(["rollout", "status"], url=seeded_url)
    assert status.exit_code == 0, status.output
    with psycopg.connect(seeded_url) as conn:
        assert v1_checksums(conn) == v1_before, "no v1 column of any row changed"
        unaccounted = conn.execute(
            "SELECT c.id FROM voice_agent_configs AS c WHERE (c.schema_version = 'v2') = EXISTS ("
            "  SELECT FROM voice_migration.quarantine AS q WHERE q.entity = 'config' AND q.entity_id = c.id"
            "  AND q.reason <> '' AND q.original_row ->> 'id' = c.id)"
        ).fetchall()
        assert unaccounted == [], "each config is migrated, or else quarantined with a reason: never both or neither"
        assert conn.execute("SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL").fetchone() == (0,)
        hostile = dict(
            conn.execute(
                "SELECT c.id, coalesce(c.schema_version, string_agg(q.reason, ',' ORDER BY q.reason)) "
                "FROM voice_agent_configs AS c LEFT JOIN voice_migration.quarantine AS q "
                "ON q.entity = 'config' AND q.entity_id = c.id WHERE c.id LIKE 'cfg_h%' GROUP BY c.id"
            ).fetchall()
        )
        verbatim = conn.execute(
            "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2' "
            "AND personality ->> 'base_prompt' IS DISTINCT FROM prompt"
        ).fetchone()
        lines = conn.execute("SELECT personality FROM voice_agent_configs WHERE id = 'cfg_h5'").fetchone()
        metrics = conn.execute(
            "SELECT total_calls, avg_duration_seconds::text, error_rate FROM voice_agent_metrics "
            "WHERE config_id = 'cfg_h1'"
        ).fetchone()
    assert hostile == {
        "cfg_h1": "v2",
        "cfg_h2": "v2",
        "cfg_h3": "v2",
        "cfg_h4": "unknown_language",
        "cfg_h5": "v2",
        "cfg_h6": "v2",  # 'ES' + a combining acute: accents are ignored, it is Spanish
        "cfg_h7": "missing_voice_id",
    }
    assert verbatim == (0,), "base_prompt is the v1 prompt verbatim, 1 MB and control characters included"
    assert lines is not None and lines[0]["greeting_message"] == "¡Hola! 👩‍👩‍👧‍👦"
    assert lines[0]["special_instructions"] == ["Sé breve", "Agenda citas"]
    assert metrics is not None and metrics[0] == 4 and metrics[1] == "NaN"
    quarantined_calls = scalar(
        seeded_url,
        "SELECT count(*) FROM voice_migration.quarantine WHERE entity = 'call' AND entity_id LIKE 'call_h%'",
    )
    assert quarantined_calls == 0, "every hostile call points at an existing config of its own tenant"
