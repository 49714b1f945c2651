-- snapshot.sql — the whole flag state in one consistent read, for the in-process cache.
--
-- What: one row: the master switch, the percentage and every override as a jsonb object
--   {"tenant_id": true|false}. A single statement sees one snapshot, so the switch, the percentage
--   and the overrides always belong together. No row means the flags row is not visible to this
--   role (row-level security without a policy): the cache then answers v1 for everyone.
-- Inputs: none.
-- Re-run: safe (read-only).

SELECT f.enabled,
       f.rollout_percentage,
       coalesce((SELECT jsonb_object_agg(o.tenant_id, o.enabled) FROM voice_agent_v2_tenant_overrides AS o),
                '{}'::jsonb) AS overrides
  FROM voice_agent_v2_flags AS f
