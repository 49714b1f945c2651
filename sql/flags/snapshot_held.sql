-- snapshot_held.sql — the whole flag state in one consistent read, with the held tenants (issue #15).
--
-- What: as snapshot.sql, plus a fourth column: the ids of every tenant in
--   public.voice_agent_v2_held_tenants (tenants with a config not in v2 shape, served v1) as a text
--   array. Used by the cached check once revision 0008_quarantine_hold has created the set; one
--   statement, so switch, percentage, overrides and hold belong together.
-- Inputs: none.
-- Re-run: safe (read-only).

SELECT f.enabled,
       f.rollout_percentage,
       coalesce((SELECT jsonb_object_agg(o.tenant_id, o.enabled) FROM voice_agent_v2_tenant_overrides AS o),
                '{}'::jsonb) AS overrides,
       coalesce((SELECT array_agg(h.tenant_id) FROM voice_agent_v2_held_tenants AS h), '{}'::text[]) AS held
  FROM voice_agent_v2_flags AS f
