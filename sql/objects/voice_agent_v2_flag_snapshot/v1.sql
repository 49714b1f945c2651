-- voice_agent_v2_flag_snapshot v1 — the whole flag state as one jsonb, for clients that reach the database
-- only through Supabase's REST API (clients/typescript, `rpc('voice_agent_v2_flag_snapshot')`).
--
-- What: voice_agent_v2_flag_snapshot() -> jsonb:
--     {"enabled": bool, "percentage": int, "overrides": {"<tenant>": bool, ...}, "held": ["<tenant>", ...]}
--   the same state as sql/flags/snapshot.sql (+ snapshot_held.sql) in one call, so a REST client can
--   evaluate voice_agent_v2_enabled's rule in process. "held" lists public.voice_agent_v2_held_tenants when
--   that table exists (revision 0008_quarantine_hold), else []. NULL when the flags row is not visible to
--   the caller (row-level security without a policy): the client then serves v1 to everyone.
--   STABLE: every statement inside sees the calling query's snapshot, so switch, percentage, overrides and
--   hold belong together. SECURITY INVOKER, search_path pinned, tables schema-qualified (as
--   sql/flags/functions.sql, for the same reasons); EXECUTE revoked from PUBLIC — grant it to the
--   application role with the SELECT grants and policies of docs/rollout.md ("Grants").
-- Inputs: none. Installed by revision 0012_one_home_per_concept, whose downgrade drops it.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_agent_v2_flag_snapshot() RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    state jsonb;
    held  jsonb := '[]'::jsonb;
BEGIN
    SELECT jsonb_build_object(
               'enabled', f.enabled,
               'percentage', f.rollout_percentage,
               'overrides', coalesce((SELECT jsonb_object_agg(o.tenant_id, o.enabled)
                                        FROM public.voice_agent_v2_tenant_overrides AS o), '{}'::jsonb))
      INTO state
      FROM public.voice_agent_v2_flags AS f;
    IF state IS NULL THEN
        RETURN NULL;
    END IF;
    IF to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL THEN
        -- Dynamic: the table may not exist when this function is created (it lands in revision 0008).
        EXECUTE 'SELECT coalesce(jsonb_agg(h.tenant_id), ''[]''::jsonb) FROM public.voice_agent_v2_held_tenants AS h'
           INTO held;
    END IF;
    RETURN state || jsonb_build_object('held', held);
END
$$;

COMMENT ON FUNCTION voice_agent_v2_flag_snapshot() IS
    'voice agent v2 rollout: switch, percentage, overrides and held tenants as one jsonb (for REST clients)';

REVOKE ALL ON FUNCTION voice_agent_v2_flag_snapshot() FROM PUBLIC;
