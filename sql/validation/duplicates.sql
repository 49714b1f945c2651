-- check: duplicates
-- severity: medium
-- what: configs that share a tenant and a name (exact, case-sensitive match; NULL names are not
--       compared), and configs with more than one voice_agent_metrics row.
-- failure means: two agents of one tenant cannot be told apart by name (v1 allowed it; the migration
--       keeps every row and merges nothing): rename or remove the extra ones. Two metrics rows for one
--       config make its numbers ambiguous; the metrics phase keeps one row per config, so a second one was
--       written outside it.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head (voice_agent_metrics). The same name rule runs on v1 data as the
--       pre-flight check sql/preflight/duplicates.sql.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
groups AS (
    SELECT 'config' AS entity, c.id, c.tenant_id,
           format('name %L', c.name) AS what,
           count(*) OVER (PARTITION BY c.tenant_id, c.name) AS copies,
           min(c.id) OVER (PARTITION BY c.tenant_id, c.name) AS first_id
    FROM voice_agent_configs AS c, scope AS s
    WHERE c.name IS NOT NULL
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
    UNION ALL
    SELECT 'metrics', m.config_id, m.tenant_id,
           format('metrics of config %s', m.config_id),
           count(*) OVER (PARTITION BY m.config_id),
           NULL
    FROM voice_agent_metrics AS m, scope AS s
    WHERE s.ids IS NULL OR m.tenant_id = ANY (s.ids)
)
SELECT 'duplicates' AS check_name, 'medium' AS severity, g.entity, g.id, g.tenant_id,
       format('%s: %s rows of tenant %s%s', g.what, g.copies, coalesce(g.tenant_id, 'NULL'),
              ' (first: ' || g.first_id || ')') AS detail
FROM groups AS g
WHERE g.copies > 1;
