-- check: data_integrity
-- severity: critical
-- what: every migrated config (schema_version = 'v2') has the fields v2 readers need: voice_config with
--       voice_id and language, personality with base_prompt, assistant_type and capabilities (an empty
--       array is fine, NULL is not).
-- failure means: a v2 reader of that config fails or behaves as if it were unset. The transform never
--       produces such a row (it quarantines what it cannot derive), so something wrote it afterwards: a
--       v2 writer, a script, or a trigger that is off. `voice-migration validate --fix` recomputes
--       configs whose v2 columns drifted from v1; if v1 itself lacks the value, fix the v1 row.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'data_integrity' AS check_name, 'critical' AS severity, 'config' AS entity, c.id, c.tenant_id,
       format('%s is missing on a migrated config', f.field) AS detail
FROM voice_agent_configs AS c
CROSS JOIN scope AS s
CROSS JOIN LATERAL (VALUES
    ('voice_config.voice_id', nullif(btrim(c.voice_config ->> 'voice_id'), '') IS NULL),
    ('voice_config.language', nullif(btrim(c.voice_config ->> 'language'), '') IS NULL),
    ('personality.base_prompt', nullif(btrim(c.personality ->> 'base_prompt'), '') IS NULL),
    ('assistant_type', c.assistant_type IS NULL),
    ('capabilities', c.capabilities IS NULL)
) AS f (field, missing)
WHERE c.schema_version = 'v2'
  AND f.missing
  AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids));
