-- held_summary.sql — how many tenants the quarantine hold keeps on v1, by how many configs, and the first few.
--
-- What: one row: held tenants, the configs holding them (not in v2 shape), and the first %(sample)s
--   tenants (most configs first, then by id) as a jsonb array of {"tenant_id", "configs"}.
--   Reads public.voice_agent_v2_held_tenants only (revision 0008_quarantine_hold on; the caller checks
--   that it exists).
-- Inputs: %(sample)s (integer).
-- Re-run: safe (read-only).

SELECT count(*) AS tenants,
       coalesce(sum(h.configs), 0)::bigint AS configs,
       coalesce((SELECT jsonb_agg(jsonb_build_object('tenant_id', s.tenant_id, 'configs', s.configs)
                                  ORDER BY s.configs DESC, s.tenant_id)
                   FROM (SELECT tenant_id, configs FROM voice_agent_v2_held_tenants
                          ORDER BY configs DESC, tenant_id LIMIT %(sample)s) AS s), '[]'::jsonb) AS sample
  FROM voice_agent_v2_held_tenants AS h
