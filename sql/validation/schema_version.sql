-- check: schema_version
-- severity: high
-- what: every config in scope is migrated (schema_version = 'v2'), or is in voice_migration.quarantine
--       with a reason; and no migrated config still has a quarantine entry.
-- failure means: high rows are configs the backfill has not reached (it was stopped, or it ran for other
--       tenants, or a v1 insert bypassed the dual-write trigger): run `voice-migration migrate` for their
--       tenants, it resumes. Low rows are quarantined configs (known v1 damage: they stay in v1 shape until
--       their v1 row is repaired). Medium rows are quarantine entries left behind by a config that has
--       since been migrated: the quarantine release did not happen.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
quarantined AS (
    SELECT q.entity_id, string_agg(q.reason || coalesce(': ' || q.detail, ''), ', ' ORDER BY q.reason) AS reasons
    FROM voice_migration.quarantine AS q
    WHERE q.entity = 'config'
    GROUP BY q.entity_id
)
SELECT 'schema_version' AS check_name,
       CASE WHEN c.schema_version = 'v2' THEN 'medium'
            WHEN q.entity_id IS NULL THEN 'high'
            ELSE 'low' END AS severity,
       'config' AS entity, c.id, c.tenant_id,
       CASE WHEN c.schema_version = 'v2'
                 THEN format('migrated, but still in quarantine (%s): the entry should have been released', q.reasons)
            WHEN q.entity_id IS NULL
                 THEN format('not migrated (schema_version %s) and not in quarantine',
                             coalesce(quote_literal(c.schema_version), 'NULL'))
            ELSE format('known v1 damage, quarantined: %s', q.reasons) END AS detail
FROM voice_agent_configs AS c
CROSS JOIN scope AS s
LEFT JOIN quarantined AS q ON q.entity_id = c.id
WHERE (c.schema_version IS DISTINCT FROM 'v2' OR q.entity_id IS NOT NULL)
  AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids));
