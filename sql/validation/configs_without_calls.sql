-- check: configs_without_calls
-- severity: low
-- what: configs in scope that have no call (matched by config id and tenant).
-- failure means: nothing is broken: the config has no metrics row, and its assistant_type came from
--       prompt keywords (or the inbound default) instead of its calls. Often an agent set up and never
--       used, or a duplicate.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'configs_without_calls' AS check_name, 'low' AS severity, 'config' AS entity, c.id, c.tenant_id,
       format('no calls; assistant_type %s comes from its prompt or the default',
              coalesce(c.assistant_type, 'NULL')) AS detail
FROM voice_agent_configs AS c
CROSS JOIN scope AS s
WHERE NOT EXISTS (SELECT FROM voice_agent_calls AS k WHERE k.config_id = c.id AND k.tenant_id = c.tenant_id)
  AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids));
