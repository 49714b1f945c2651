-- tenants_in_v2.sql — the tenants voice_agent_v2_enabled() puts in v2 right now, with their bucket.
--
-- What: one row per tenant in v2 (id, bucket), ordered by id; the demo compares these lists before
--       and after a change (a partial rollback must never add a tenant to v2).
-- Inputs: none; needs the rollout flags (revision 0002_v2_flags).
-- Re-run: safe (read-only).

SELECT t.id, voice_agent_v2_bucket(t.id) AS bucket
FROM tenants AS t
WHERE voice_agent_v2_enabled(t.id)
ORDER BY t.id
