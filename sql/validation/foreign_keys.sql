-- check: foreign_keys
-- severity: critical
-- what: references point at rows that exist: configs -> tenants, calls -> configs, calls -> tenants,
--       a call's tenant = its config's tenant, metrics -> configs (same tenant), tenant overrides ->
--       tenants. v1 has no foreign keys, so this is the only guard.
-- failure means: critical rows are new damage: a row points at nothing, or across tenants, and is not
--       recorded in voice_migration.quarantine. Rows the transform quarantined with the matching reason
--       (missing_tenant, missing_config, tenant_mismatch) are known v1 damage and come back as low: they
--       are listed, not failed, until someone repairs the v1 row (which releases the quarantine entry).
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants);
--       a row is in scope by its own tenant_id.
-- needs: the database at Alembic head (voice_migration.quarantine, voice_agent_metrics, flag tables).
-- note: telling a call's tenant from its config's joins calls to configs on the config id alone; that is
--       the point of the check, so it is the one statement here that cannot be routed by tenant_id.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
broken AS (
    SELECT 'config' AS entity, c.id, c.tenant_id, 'missing_tenant' AS reason,
           format('tenant %s does not exist', coalesce(c.tenant_id, 'NULL')) AS problem
    FROM voice_agent_configs AS c
    CROSS JOIN scope AS s
    WHERE NOT EXISTS (SELECT FROM tenants AS t WHERE t.id = c.tenant_id)
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
    UNION ALL
    SELECT 'call', k.id, k.tenant_id, p.reason, p.problem
    FROM voice_agent_calls AS k
    CROSS JOIN scope AS s
    LEFT JOIN voice_agent_configs AS c ON c.id = k.config_id
    LEFT JOIN tenants AS t ON t.id = k.tenant_id
    CROSS JOIN LATERAL (VALUES
        ('missing_config', c.id IS NULL, format('config %s does not exist', coalesce(k.config_id, 'NULL'))),
        ('missing_tenant', t.id IS NULL, format('tenant %s does not exist', coalesce(k.tenant_id, 'NULL'))),
        ('tenant_mismatch', c.tenant_id IS DISTINCT FROM k.tenant_id AND c.id IS NOT NULL,
         format('the call''s tenant %s differs from tenant %s of its config %s',
                coalesce(k.tenant_id, 'NULL'), coalesce(c.tenant_id, 'NULL'), c.id))
    ) AS p (reason, bad, problem)
    WHERE (c.id IS NULL OR t.id IS NULL OR c.tenant_id IS DISTINCT FROM k.tenant_id)
      AND p.bad
      AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids))
)
SELECT 'foreign_keys' AS check_name,
       CASE WHEN q.entity_id IS NULL THEN 'critical' ELSE 'low' END AS severity,
       b.entity, b.id, b.tenant_id,
       CASE WHEN q.entity_id IS NULL THEN b.problem || ' (not in quarantine: new damage)'
            ELSE b.problem || format(' (known v1 damage, quarantined as %s)', q.reason) END AS detail
FROM broken AS b
LEFT JOIN voice_migration.quarantine AS q
       ON q.entity = b.entity AND q.entity_id = b.id AND q.reason = b.reason
UNION ALL
SELECT 'foreign_keys', 'critical', 'metrics', m.config_id, m.tenant_id,
       CASE WHEN c.id IS NULL THEN format('metrics row for config %s, which does not exist', m.config_id)
            ELSE format('metrics row has tenant %s but its config %s belongs to tenant %s',
                        coalesce(m.tenant_id, 'NULL'), m.config_id, coalesce(c.tenant_id, 'NULL')) END
FROM voice_agent_metrics AS m
CROSS JOIN scope AS s
LEFT JOIN voice_agent_configs AS c ON c.id = m.config_id
WHERE (c.id IS NULL OR c.tenant_id IS DISTINCT FROM m.tenant_id)
  AND (s.ids IS NULL OR m.tenant_id = ANY (s.ids))
UNION ALL
SELECT 'foreign_keys', 'critical', 'tenant_override', o.tenant_id, o.tenant_id,
       format('override for tenant %s, which does not exist', o.tenant_id)
FROM voice_agent_v2_tenant_overrides AS o
CROSS JOIN scope AS s
WHERE NOT EXISTS (SELECT FROM tenants AS t WHERE t.id = o.tenant_id)
  AND (s.ids IS NULL OR o.tenant_id = ANY (s.ids));
