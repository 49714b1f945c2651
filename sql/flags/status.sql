-- status.sql — where the rollout stands: flags, tenants in v2, overrides.
--
-- What: one row: master switch, percentage, who changed it last and when, when the current step began,
--   how many tenants voice_agent_v2_enabled() puts in v2 out of all tenants, and how many overrides
--   force tenants in or out. The call metrics come from cohorts.sql.
--   Cost: one voice_agent_v2_enabled() call per tenant (docs/rollout.md has the measured time).
-- Inputs: none.
-- Re-run: safe (read-only).

SELECT f.enabled,
       f.rollout_percentage,
       f.updated_at,
       f.updated_by,
       f.step_started_at,
       t.tenants_in_v2,
       t.total_tenants,
       o.overrides_enabled,
       o.overrides_disabled
  FROM voice_agent_v2_flags AS f
 CROSS JOIN (SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id)) AS tenants_in_v2,
                    count(*) AS total_tenants
               FROM tenants) AS t
 CROSS JOIN (SELECT count(*) FILTER (WHERE enabled) AS overrides_enabled,
                    count(*) FILTER (WHERE NOT enabled) AS overrides_disabled
               FROM voice_agent_v2_tenant_overrides) AS o
