-- held_tenants.sql — tenants the rollout keeps on v1 because one of their configs is not in v2 shape.
--
-- What: one row: how many tenants are held, how many configs hold them, since when the oldest hold
--   is, and up to 10 held tenant ids (most configs first). Reads public.voice_agent_v2_held_tenants,
--   which revision 0008_quarantine_hold creates (DESIGN.md section 5); `voice-migration status` runs
--   this file only when to_regclass('public.voice_agent_v2_held_tenants') is not NULL.
-- Inputs: none.
-- Re-run: safe (read-only).

SELECT count(*) AS tenants,
       coalesce(sum(h.configs), 0) AS configs,
       min(h.held_since) AS oldest_since,
       coalesce((array_agg(h.tenant_id ORDER BY h.configs DESC, h.tenant_id))[1:10], '{}') AS examples
  FROM public.voice_agent_v2_held_tenants AS h
