"""The v2 transformation rules: every spelling, keyword and rule, normalisers, and what the database rejects.

Rows are written as a v1 application would (plain INSERTs); the dual-write trigger runs the
same derivation functions as the backfill, so each assertion checks the rule end to end.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture()
def conn(head_database_url: str) -> Iterator[Conn]:
    """Autocommit connection to a migrated, empty database with one tenant and one config."""
    with psycopg.connect(head_database_url, autocommit=True) as c:
        c.execute("INSERT INTO tenants (id, name) VALUES ('t1', 'Tenant one')")
        insert_config(c, "cfg1", prompt="Eres un asistente.", language="es")
        yield c


def insert_config(
    conn: Conn,
    cid: str,
    *,
    prompt: str | None = "Hola",
    voice_id: str | None = "v1",
    language: str | None = "es",
    tenant: str = "t1",
) -> None:
    conn.execute(
        "INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled) "
        "VALUES (%s, %s, 'Agent', %s, %s, %s, true)",
        (cid, tenant, prompt, voice_id, language),
    )


def insert_call(conn: Conn, cid: str, **values: object) -> tuple[str, str]:
    row = {
        "tenant_id": "t1",
        "config_id": "cfg1",
        "direction": "inbound",
        "status": "completed",
        "ended_reason": None,
        "duration_seconds": 60,
        "latency_ms": 500,
        "outcome": None,
        "transcript": None,
    } | values
    conn.execute(
        "INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, ended_reason, "
        "duration_seconds, latency_ms, outcome, transcript) VALUES (%s, %(tenant_id)s, %(config_id)s, "
        "%(direction)s, %(status)s, %(ended_reason)s, %(duration_seconds)s, %(latency_ms)s, %(outcome)s, "
        "%(transcript)s)".replace("%s", "%(id)s", 1),
        {"id": cid, **row},
    )
    got = conn.execute("SELECT outcome_code, outcome_source FROM voice_agent_calls WHERE id = %s", (cid,)).fetchone()
    assert got is not None
    return str(got[0]), str(got[1])


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Cita Agendada", "appointment_booked"),
        ("cita-agendada", "appointment_booked"),
        ("appointment-booked", "appointment_booked"),
        ("APPOINTMENT_BOOKED", "appointment_booked"),
        ("NO ANSWER", "no_answer"),
        ("no_answer", "no_answer"),
        ("Buzón de voz", "voicemail"),
        ("No Interesado", "not_interested"),
        ("order_placed", "order_placed"),
        ("información", "information_provided"),
        ("Transferido", "transferred_to_human"),
        ("ocupado", "busy"),
    ],
)
def test_legacy_outcome_spellings_map_to_a_manual_outcome(conn: Conn, spelling: str, expected: str) -> None:
    assert insert_call(conn, "c1", outcome=spelling) == (expected, "manual")


def test_every_legacy_map_entry_is_honoured(conn: Conn) -> None:
    rows = conn.execute("SELECT spelling_key, outcome_code FROM voice_migration.legacy_outcome_map").fetchall()
    assert len(rows) > 40
    for i, (key, code) in enumerate(rows):
        assert insert_call(conn, f"m{i}", outcome=str(key).upper()) == (code, "manual"), key


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"status": "no-answer"}, "no_answer"),
        ({"status": "NO_ANSWER"}, "no_answer"),
        ({"status": "busy"}, "busy"),
        ({"status": "failed", "ended_reason": "pipeline-error"}, "failed"),
        ({"status": "Error"}, "failed"),
        ({"ended_reason": "voicemail"}, "voicemail"),
        ({"ended_reason": "assistant-forwarded-call"}, "transferred_to_human"),
        ({"ended_reason": "customer-transferred"}, "transferred_to_human"),
        ({"transcript": "Cliente: no me interesa, gracias."}, "not_interested"),
        ({"transcript": "Agent: let me transfer you to a human."}, "transferred_to_human"),
        ({"transcript": "Caller: can you call me back tomorrow?"}, "callback_requested"),
        ({"transcript": "Agente: listo, su cita QUEDÓ agendada."}, "appointment_booked"),
        ({"transcript": "Agent: your order is confirmed."}, "order_placed"),
        ({"transcript": "Caller: what are your opening hours?"}, "information_provided"),
        ({"transcript": "", "duration_seconds": 4}, "abandoned"),
        ({"transcript": None, "duration_seconds": 9.9}, "abandoned"),
        ({"status": "busy", "duration_seconds": 0}, "busy"),
        ({"transcript": "hello", "duration_seconds": 10}, "other"),
        ({"outcome": "", "transcript": None}, "other"),
        ({"outcome": "something odd"}, "other"),
    ],
)
def test_outcomes_are_inferred_in_priority_order(conn: Conn, values: dict[str, object], expected: str) -> None:
    assert insert_call(conn, "c1", **values) == (expected, "inferred")


def test_a_rule_a_dba_adds_is_used(conn: Conn) -> None:
    conn.execute(
        "INSERT INTO voice_migration.outcome_rules (priority, stage, match, outcome_code) "
        "VALUES (299, 'transcript', voice_migration.fold_keyword('Quiero pagar'), 'order_placed')"
    )
    assert insert_call(conn, "c1", transcript="quiero PAGAR ya, no me interesa otra cosa") == (
        "order_placed",
        "inferred",
    )


def test_a_rule_key_in_another_spelling_is_rejected(conn: Conn) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO voice_migration.legacy_outcome_map VALUES ('Cita Agendada', 'other')")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("es", "es"),
        ("ES", "es"),
        ("es_MX", "es-MX"),
        ("es-mx", "es-MX"),
        ("Spanish", "es"),
        ("español", "es"),
        ("ESPAÑOL", "es"),
        ("en_US", "en-US"),
        ("english", "en"),
        ("en", "en"),
        ("es-419", "es-419"),
        (" pt_br ", "pt-BR"),
        ("Français", "fr"),
        ("", None),
        ("klingon", None),
        ("es_Mexico", None),
        ("xx", None),
    ],
)
def test_language_spellings_normalise_to_bcp47(conn: Conn, spelling: str, expected: str | None) -> None:
    row = conn.execute("SELECT voice_migration.normalize_language(%s)", (spelling,)).fetchone()
    assert row == (expected,)


@pytest.mark.parametrize(
    ("directions", "expected"),
    [
        (["inbound"], "inbound"),
        (["in", "INBOUND"], "inbound"),
        (["entrante"], "inbound"),
        (["outbound"], "outbound"),
        (["OUT"], "outbound"),
        (["saliente", "outgoing"], "outbound"),
        (["in", "out"], "hybrid"),
        (["inbound", None, "weird"], "inbound"),
    ],
)
def test_assistant_type_comes_from_call_directions(conn: Conn, directions: list[str | None], expected: str) -> None:
    insert_config(conn, "cfg2", prompt="Eres un asistente.")
    for i, direction in enumerate(directions):
        insert_call(conn, f"d{i}", config_id="cfg2", direction=direction)
    conn.execute("UPDATE voice_agent_configs SET prompt = prompt || ' ' WHERE id = 'cfg2'")  # a v1 write
    assert conn.execute("SELECT assistant_type FROM voice_agent_configs WHERE id = 'cfg2'").fetchone() == (expected,)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("You call customers to remind them.", "outbound"),
        ("Eres la recepcionista de la clínica.", "inbound"),
        ("Eres la recepcionista y también llamas a clientes.", "hybrid"),
        ("Sin pistas.", "inbound"),
    ],
)
def test_a_config_without_calls_falls_back_to_prompt_keywords(conn: Conn, prompt: str, expected: str) -> None:
    insert_config(conn, "cfg2", prompt=prompt)
    assert conn.execute("SELECT assistant_type FROM voice_agent_configs WHERE id = 'cfg2'").fetchone() == (expected,)


def test_every_capability_keyword_is_detected(conn: Conn) -> None:
    keywords = conn.execute("SELECT keyword, capability FROM voice_migration.capability_keywords").fetchall()
    assert {str(c) for _, c in keywords} == {
        str(r[0]) for r in conn.execute("SELECT code FROM voice_migration.capability_catalog").fetchall()
    }
    for i, (keyword, capability) in enumerate(keywords):
        insert_config(conn, f"k{i}", prompt=f"Hola.\nTú: {str(keyword).upper()}, por favor.")
        row = conn.execute("SELECT capabilities FROM voice_agent_configs WHERE id = %s", (f"k{i}",)).fetchone()
        assert row is not None and capability in row[0], keyword  # type: ignore[operator]


def test_capabilities_are_sorted_distinct_and_prompt_lines_are_extracted(conn: Conn) -> None:
    prompt = (
        "Saludo: ¡Hola! Gracias por llamar.\n- Habla de usted.\n* Confirma la fecha.\n"
        "Puedes agendar citas, reprogramar citas y agendar otra vez.\nFarewell: Bye now!\nNota: sé breve."
    )
    insert_config(conn, "cfg2", prompt=prompt)
    row = conn.execute("SELECT capabilities, personality FROM voice_agent_configs WHERE id = 'cfg2'").fetchone()
    assert row is not None
    assert row[0] == ["appointment_booking", "appointment_rescheduling"]
    assert row[1] == {
        "base_prompt": prompt,
        "greeting_message": "¡Hola! Gracias por llamar.",
        "farewell_message": "Bye now!",
        "special_instructions": ["Habla de usted.", "Confirma la fecha.", "sé breve."],
    }


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("voice_id", None, "missing_voice_id"),
        ("voice_id", "  ", "missing_voice_id"),
        ("prompt", None, "empty_prompt"),
        ("prompt", " \n ", "empty_prompt"),
        ("language", None, "unknown_language"),
        ("language", "klingon", "unknown_language"),
    ],
)
def test_configs_that_cannot_be_derived_stay_v1_and_are_quarantined(
    conn: Conn, column: str, value: str | None, reason: str
) -> None:
    insert_config(conn, "bad", **{column: value})  # type: ignore[arg-type]
    row = conn.execute("SELECT schema_version, voice_config, capabilities FROM voice_agent_configs WHERE id='bad'")
    assert row.fetchone() == (None, None, None)
    q = conn.execute("SELECT reason, original_row ->> 'id' FROM voice_migration.quarantine WHERE entity_id = 'bad'")
    assert q.fetchall() == [(reason, "bad")]
    conn.execute("UPDATE voice_agent_configs SET voice_id = 'v9', prompt = 'Hola', language = 'es' WHERE id = 'bad'")
    assert conn.execute("SELECT schema_version FROM voice_agent_configs WHERE id = 'bad'").fetchone() == ("v2",)
    assert conn.execute("SELECT count(*) FROM voice_migration.quarantine WHERE entity_id = 'bad'").fetchone() == (0,)


def test_damaged_calls_are_migrated_and_quarantined(conn: Conn) -> None:
    insert_config(conn, "other_cfg", tenant="t1")
    conn.execute("INSERT INTO tenants (id) VALUES ('t2')")
    insert_call(conn, "orphan", config_id="nope")
    insert_call(conn, "ghost", tenant_id="ghost")
    insert_call(conn, "mismatch", tenant_id="t2")
    rows = conn.execute(
        "SELECT entity_id, reason FROM voice_migration.quarantine WHERE entity = 'call' ORDER BY 1, 2"
    ).fetchall()
    assert rows == [
        ("ghost", "missing_tenant"),
        ("ghost", "tenant_mismatch"),
        ("mismatch", "tenant_mismatch"),
        ("orphan", "missing_config"),
    ]
    assert conn.execute("SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NULL").fetchone() == (0,)


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("UPDATE voice_agent_configs SET assistant_type = 'robot'", psycopg.errors.CheckViolation),
        ("UPDATE voice_agent_configs SET capabilities = '{flying}'", psycopg.errors.ForeignKeyViolation),
        ("UPDATE voice_agent_configs SET capabilities = '{surveys,faq}'", psycopg.errors.CheckViolation),
        (
            "UPDATE voice_agent_configs SET voice_config = voice_config || '{\"speed\": 2.5}'",
            psycopg.errors.CheckViolation,
        ),
        (
            'UPDATE voice_agent_configs SET voice_config = voice_config || \'{"pitch": "high"}\'',
            psycopg.errors.CheckViolation,
        ),
        (
            "INSERT INTO voice_agent_calls (id, tenant_id, config_id, outcome_code) VALUES ('x', 't1', 'cfg1', 'won')",
            psycopg.errors.ForeignKeyViolation,
        ),
        ("DELETE FROM voice_migration.outcome_catalog WHERE code = 'busy'", psycopg.errors.RestrictViolation),
    ],
)
def test_the_database_rejects_values_outside_the_catalogs_and_ranges(
    conn: Conn, statement: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        conn.execute(statement.encode())


def test_speed_and_pitch_within_range_are_accepted(conn: Conn) -> None:
    conn.execute('UPDATE voice_agent_configs SET voice_config = voice_config || \'{"speed": 0.5, "pitch": 2.0}\'')
    row = conn.execute("SELECT voice_config ->> 'speed', voice_id FROM voice_agent_configs WHERE id = 'cfg1'")
    assert row.fetchone() == ("0.5", "v1")


HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)


@HYPOTHESIS
@given(value=TEXT)
def test_normalize_key_is_idempotent_and_ignores_case_accents_and_separators(conn: Conn, value: str) -> None:
    row = conn.execute(
        "SELECT voice_migration.normalize_key(%(v)s),"
        " voice_migration.normalize_key(voice_migration.normalize_key(%(v)s)),"
        " voice_migration.normalize_key(upper(%(v)s) || ' - _'), voice_migration.fold_text(%(v)s)",
        {"v": value},
    ).fetchone()
    assert row is not None
    key, again, shouted, folded = (str(x) for x in row)
    assert key == again
    assert all(ch.isascii() and (ch.isdigit() or ch.islower()) for ch in key)
    if value.isascii():
        assert shouted == key
    assert folded.startswith(" ") and folded.endswith(" ") and "  " not in folded.strip()
    assert folded.replace(" ", "") == key


@HYPOTHESIS
@given(letters=st.text(st.sampled_from("aeiounc AEIOUNC-_"), min_size=1, max_size=20))
def test_accented_and_plain_spellings_share_a_key(conn: Conn, letters: str) -> None:
    accented = letters.translate(str.maketrans("aeiounAEIOUNc", "áéíóúñÁÉÍÓÚÑç"))
    row = conn.execute(
        "SELECT voice_migration.normalize_key(%s) = voice_migration.normalize_key(%s)", (letters, accented)
    ).fetchone()
    assert row == (True,)


@HYPOTHESIS
@given(prompt=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1))
def test_base_prompt_is_the_prompt_verbatim_for_any_unicode(conn: Conn, prompt: str) -> None:
    conn.execute("DELETE FROM voice_agent_configs WHERE id = 'p'")
    insert_config(conn, "p", prompt=prompt)
    row = conn.execute(
        "SELECT personality ->> 'base_prompt', schema_version, prompt FROM voice_agent_configs WHERE id = 'p'"
    ).fetchone()
    assert row is not None
    if prompt.strip(" \t\r\n"):
        assert row[0] == prompt and row[1] == "v2"
    else:
        assert row[0] is None and row[1] is None
    assert row[2] == prompt
