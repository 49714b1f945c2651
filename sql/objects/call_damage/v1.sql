-- call_damage v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.call_damage, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/50_transform_calls.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.call_damage(p_calls voice_agent_calls[])
RETURNS TABLE (id text, tenant_id text, reason text, detail text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- The config is looked up by id alone on purpose: a config under another tenant is exactly
    -- the cross-tenant damage this reports (the one lookup here that is not routed by tenant).
    RETURN QUERY
    SELECT s.id, s.tenant_id, d.reason, d.detail
    FROM unnest(p_calls) AS s
    LEFT JOIN public.voice_agent_configs AS g ON g.id = s.config_id
    LEFT JOIN public.tenants AS t ON t.id = s.tenant_id
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN g.id IS NULL THEN 'missing_config' END, quote_nullable(s.config_id)),
        (CASE WHEN t.id IS NULL THEN 'missing_tenant' END, quote_nullable(s.tenant_id)),
        (CASE WHEN g.tenant_id IS DISTINCT FROM s.tenant_id AND g.id IS NOT NULL
              THEN 'tenant_mismatch' END,
         quote_nullable(s.tenant_id) || ' <> config tenant ' || quote_nullable(g.tenant_id))
    ) AS d (reason, detail)
    WHERE d.reason IS NOT NULL
      -- The three conditions again, on the joined call before the VALUES list: it quotes and
      -- concatenates every detail before it filters, which was half of the function's time (1 call in
      -- 20 is damaged in the benchmark's messy data; 12 of 25 ms per batch of 5,000).
      AND (g.id IS NULL OR t.id IS NULL OR g.tenant_id IS DISTINCT FROM s.tenant_id);
END
$$;
