-- fix: drifted_v2_columns
-- summary: configs whose drifted v2 values were recomputed from v1
-- what: recomputes the v2 values of migrated configs whose v2 side disagrees with v1 (what the check
--       sql/validation/v1_v2_consistency.sql reports) from their v1 columns, with the transform's
--       voice_migration.derive_configs, merged as a v1 write through the dual-write trigger would be:
--       voice_id, language, base_prompt and the values derived from the prompt and the calls
--       (instructions, greeting, farewell, capabilities, assistant_type) are recomputed; v2-only keys
--       (voice_config speed and pitch, other personality keys) are kept.
-- why safe: v1 is the source of truth while v1 writers run, and the recomputation is the backfill's.
--       A config whose v1 row cannot be derived any more (it would go to quarantine) is left alone and
--       stays reported: deciding that is not a repair.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
--       Run it with the backfill's switch on, so the dual-write trigger does not echo the recomputed
--       values back into the v1 columns (e.g. a normalised language over 'Spanish'):
--         BEGIN; SET LOCAL voice_migration.backfill = 'on'; \i sql/fix/drifted_v2_columns.sql; COMMIT;
--       `voice-migration validate --fix` does exactly that.
-- needs: the database at Alembic head.
-- re-run: safe and idempotent: once v2 agrees with v1 nothing is selected. Never deletes.
-- returns: one row, fixed = the number of configs changed.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
drifted AS (
    SELECT c
    FROM voice_agent_configs AS c, scope AS s
    WHERE c.schema_version = 'v2'
      AND (c.voice_config ->> 'voice_id' IS DISTINCT FROM c.voice_id
           OR c.voice_config ->> 'language' IS DISTINCT FROM voice_migration.normalize_language(c.language)
           OR c.personality ->> 'base_prompt' IS DISTINCT FROM c.prompt)
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
),
derived AS MATERIALIZED (
    SELECT d.*
    FROM voice_migration.derive_configs(ARRAY(SELECT x.c FROM drifted AS x)) AS d
    WHERE cardinality(d.reasons) = 0
),
changed AS (
    UPDATE voice_agent_configs AS c
    SET voice_config = coalesce(c.voice_config, '{}'::jsonb) || d.voice_config,
        personality = (coalesce(c.personality, '{}'::jsonb)
                       - ARRAY['base_prompt', 'special_instructions', 'greeting_message', 'farewell_message'])
                      || d.personality,
        assistant_type = d.assistant_type,
        capabilities = d.capabilities,
        migrated_at = now()
    FROM derived AS d
    WHERE c.id = d.id AND c.tenant_id IS NOT DISTINCT FROM d.tenant_id
    RETURNING 1
)
SELECT count(*) AS fixed FROM changed;
