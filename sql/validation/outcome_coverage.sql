-- check: outcome_coverage
-- severity: high
-- what: every call in scope has an outcome_code that is in voice_migration.outcome_catalog, and an
--       outcome_source.
-- failure means: the call is missing from the v2 outcome counts and dashboards. Calls are always
--       migrated (even quarantined ones), so a call without an outcome was not reached by the backfill
--       (run `voice-migration migrate` for its tenant, it resumes) or was written by a path that bypassed
--       the dual-write trigger; a code that is not in the catalog was written by hand.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'outcome_coverage' AS check_name, 'high' AS severity, 'call' AS entity, k.id, k.tenant_id,
       concat_ws('; ',
                 CASE WHEN k.outcome_code IS NULL THEN 'outcome_code is NULL'
                      WHEN o.code IS NULL THEN format('outcome_code %L is not in the outcome catalog', k.outcome_code)
                 END,
                 CASE WHEN k.outcome_source IS NULL THEN 'outcome_source is NULL' END) AS detail
FROM voice_agent_calls AS k
CROSS JOIN scope AS s
LEFT JOIN voice_migration.outcome_catalog AS o ON o.code = k.outcome_code
WHERE (o.code IS NULL OR k.outcome_source IS NULL)
  AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids));
