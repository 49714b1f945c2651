-- check: empty_special_instructions
-- severity: low
-- what: migrated configs whose personality.special_instructions is missing, JSON null or a blank string
--       instead of an array (the runbook's "configs with empty special_instructions").
-- failure means: a v2 reader has to treat "no instructions" as a special case. Safe to repair:
--       `voice-migration validate --fix` sets it to [] (sql/fix/empty_special_instructions.sql).
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'empty_special_instructions' AS check_name, 'low' AS severity, 'config' AS entity, c.id, c.tenant_id,
       format('personality.special_instructions is %s, not an array (--fix sets [])',
              coalesce((c.personality -> 'special_instructions')::text, 'missing')) AS detail
FROM voice_agent_configs AS c, scope AS s
WHERE c.schema_version = 'v2'
  AND jsonb_typeof(c.personality) = 'object'
  -- ->> gives NULL for a missing key or JSON null, the bare text of a string, and '[]' for []
  AND nullif(btrim(c.personality ->> 'special_instructions'), '') IS NULL
  AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids));
