"""``alembic downgrade`` after v2 writers wrote v2-only data: v1 columns carry what maps back, the archive the rest.

v2-only data is what has no v1 column: speed and pitch in ``voice_config``, greeting and special
instructions in ``personality``, capabilities, assistant types, outcome codes a v2 writer set, the
metrics, and the rollout flags, overrides and their audit. Each must be found, value for value, in
``voice_migration.downgrade_archive_*`` after the downgrade to the v1 baseline.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import settings_for
from tests.helpers import BATCH_SIZE, counts, invoke
from voice_migration.migration import revisions

pytestmark = pytest.mark.reliability

V2_WRITES = """
UPDATE voice_agent_configs
   SET voice_config = voice_config || '{"speed": 1.25, "pitch": 0.8}',
       personality = personality || '{"greeting_message": "¡Hola desde v2!", "special_instructions": ["sé breve"]}',
       capabilities = ARRAY['faq', 'payments']
 WHERE id = 'cfg_00000020';
UPDATE voice_agent_configs SET voice_config = voice_config || '{"language": "en-GB"}' WHERE id = 'cfg_00000021';
INSERT INTO voice_agent_configs (id, tenant_id, name, enabled, assistant_type, voice_config, personality, capabilities)
VALUES ('cfg_v2_only', 'tenant_000001', 'Made in v2', true, 'outbound',
        '{"voice_id": "voice_v2", "language": "es-MX", "speed": 0.9}',
        '{"base_prompt": "Eres un agente creado en v2.", "special_instructions": [], "farewell_message": "Adiós"}',
        ARRAY['reminders']);
UPDATE voice_agent_calls SET outcome_code = 'callback_requested' WHERE id = 'call_0000000010';
"""

CONFIGS_V2 = "SELECT id, assistant_type, voice_config, personality, capabilities, schema_version, migrated_from"
CALLS_V2 = "SELECT id, outcome_code, outcome_source"


def rows(conn: psycopg.Connection[tuple[object, ...]], query: str) -> set[tuple[object, ...]]:
    return {tuple(str(value) for value in row) for row in conn.execute(query.encode()).fetchall()}


def test_a_downgrade_after_v2_writes_loses_nothing(staged_url: str) -> None:
    assert invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=staged_url).exit_code == 0
    for args in (["set-percentage", "25"], ["disable-tenant", "tenant_000002"]):
        assert invoke(["rollout", *args, "--by", "oncall"], url=staged_url).exit_code == 0
    with psycopg.connect(staged_url) as conn:
        conn.execute(V2_WRITES.encode())
        conn.commit()
        configs = rows(conn, f"{CONFIGS_V2} FROM voice_agent_configs WHERE voice_config IS NOT NULL")
        calls = rows(conn, f"{CALLS_V2} FROM voice_agent_calls")
        metrics = rows(conn, "SELECT to_jsonb(m) FROM voice_agent_metrics AS m")
        audit = rows(conn, "SELECT id, changed_by, action, old_value, new_value FROM voice_agent_v2_flag_audit")
    before = counts(staged_url)

    printed = revisions.downgrade(settings_for(staged_url), revisions.BASELINE_REVISION)

    assert "downgrade_archive_configs" in printed, "the downgrade says where the v2 data went"
    assert counts(staged_url) == before
    with psycopg.connect(staged_url) as conn:
        assert revisions.current_revision(conn) == revisions.BASELINE_REVISION
        v1 = dict(conn.execute("SELECT id, row(prompt, voice_id, language)::text FROM voice_agent_configs").fetchall())
        assert v1["cfg_v2_only"] == '("Eres un agente creado en v2.",voice_v2,es-MX)', "a v2-only config is a v1 row"
        assert str(v1["cfg_00000021"]).endswith(",en-GB)"), "a v2 language change reached the v1 column"
        archive = "voice_migration.downgrade_archive"
        assert rows(conn, f"{CONFIGS_V2} FROM {archive}_configs") == configs
        assert rows(conn, f"{CALLS_V2} FROM {archive}_calls") == calls
        assert metrics and rows(conn, f"SELECT to_jsonb(a) - 'archived_at' FROM {archive}_metrics AS a") == metrics
        assert rows(conn, f"SELECT id, changed_by, action, old_value, new_value FROM {archive}_v2_flag_audit") == audit
        assert rows(conn, f"SELECT rollout_percentage FROM {archive}_v2_flags") == {("25",)}
        assert rows(conn, f"SELECT tenant_id, enabled FROM {archive}_v2_tenant_overrides") == {
            ("tenant_000002", "False")
        }
        speed = conn.execute(
            f"SELECT voice_config -> 'speed', personality ->> 'greeting_message' FROM {archive}_configs "
            "WHERE id = 'cfg_00000020'"
        ).fetchone()
        assert speed is not None and float(str(speed[0])) == 1.25 and speed[1] == "¡Hola desde v2!"
