-- check: legacy_outcomes
-- severity: low
-- what: calls whose v1 outcome is in a legacy free-text format ('Cita Agendada', 'NO ANSWER',
--       'appointment-booked', blank) rather than an outcome catalog code; shows what v2 made of it.
-- failure means: nothing is broken: the v2 outcome_code was mapped or inferred from it. The row says
--       that v1 writers still produce free text; v1 columns are never rewritten by the migration.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'legacy_outcomes' AS check_name, 'low' AS severity, 'call' AS entity, k.id, k.tenant_id,
       format('legacy outcome %L became %s (%s)', k.outcome, coalesce(k.outcome_code, 'NULL'),
              coalesce(k.outcome_source, 'no source')) AS detail
FROM voice_agent_calls AS k
CROSS JOIN scope AS s
WHERE k.outcome IS NOT NULL
  AND NOT EXISTS (SELECT FROM voice_migration.outcome_catalog AS o WHERE o.code = k.outcome)
  AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids));
