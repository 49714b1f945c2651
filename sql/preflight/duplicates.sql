-- check: duplicates
-- severity: medium
-- what: v1 configs that share a tenant and a name (exact, case-sensitive match; NULL names are not
--       compared), the same rule the v2 duplicates check applies.
-- failure means: the application cannot tell these agents apart by name. Nothing is merged or deleted:
--       all of them are migrated, and the v2 duplicates check keeps reporting them until someone renames
--       or removes the extra ones.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: only the v1 tables (revision 0001_v1_baseline); works on a v1-only database.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
named AS (
    SELECT c.id, c.tenant_id, c.name,
           count(*) OVER (PARTITION BY c.tenant_id, c.name) AS copies,
           min(c.id) OVER (PARTITION BY c.tenant_id, c.name) AS first_id
    FROM voice_agent_configs AS c, scope AS s
    WHERE c.name IS NOT NULL
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
)
SELECT 'duplicates' AS check_name, 'medium' AS severity, 'config' AS entity, n.id, n.tenant_id,
       format('name %L is used by %s configs of tenant %s (first: %s)', n.name, n.copies, n.tenant_id,
              n.first_id) AS detail
FROM named AS n
WHERE n.copies > 1;
