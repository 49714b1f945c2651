-- refresh_held_tenants v1 — recompute the held set from the configs themselves (set-based).
--
-- What: voice_migration.refresh_held_tenants(p_tenant_ids text[] DEFAULT NULL) -> integer makes
--   public.voice_agent_v2_held_tenants exactly "every tenant with a config whose schema_version is not
--   'v2', and how many", for the tenants in p_tenant_ids (NULL = all): one GROUP BY over the configs, one
--   upsert, one delete. `held_since` of a tenant that stays held is kept. Returns how many tenants entered
--   or left the set, recomputes the held filter of the flags row (voice_migration.refresh_held_filter), and NOTIFYs voice_agent_v2_flags (payload 'voice_agent_v2_held_tenants') when that
--   is not 0, so the cached checks reload.
--   Used by revision 0008_quarantine_hold (the initial fill) and by the data restore, which writes the
--   configs with their triggers disabled; run it by hand after any bulk write made with triggers off
--   (session_replication_role = replica, ALTER TABLE ... DISABLE TRIGGER): `SELECT
--   voice_migration.refresh_held_tenants();` (it returns how many tenants it corrected: 0 = no drift).
-- Inputs: p_tenant_ids.
-- Re-run: safe (CREATE OR REPLACE; the function itself is idempotent).

CREATE OR REPLACE FUNCTION voice_migration.refresh_held_tenants(p_tenant_ids text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_changed integer;
BEGIN
    WITH actual AS (
        SELECT c.tenant_id, count(*)::integer AS configs
          FROM public.voice_agent_configs AS c
         WHERE c.schema_version IS DISTINCT FROM 'v2'
           AND c.tenant_id IS NOT NULL
           AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids))
         GROUP BY c.tenant_id
    ), removed AS (
        DELETE FROM public.voice_agent_v2_held_tenants AS h
         WHERE (p_tenant_ids IS NULL OR h.tenant_id = ANY (p_tenant_ids))
           AND NOT EXISTS (SELECT FROM actual AS a WHERE a.tenant_id = h.tenant_id)
        RETURNING 1
    ), upserted AS (
        INSERT INTO public.voice_agent_v2_held_tenants AS h (tenant_id, configs)
        SELECT a.tenant_id, a.configs FROM actual AS a ORDER BY a.tenant_id
        ON CONFLICT (tenant_id) DO UPDATE SET configs = excluded.configs WHERE h.configs <> excluded.configs
        RETURNING (xmax = 0) AS inserted
    )
    SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM upserted WHERE inserted) INTO v_changed;
    -- Always: the filter may be missing (the initial fill) or stale (a write with triggers off).
    PERFORM voice_migration.refresh_held_filter();
    IF v_changed > 0 THEN
        PERFORM pg_notify('voice_agent_v2_flags', 'voice_agent_v2_held_tenants');
    END IF;
    RETURN v_changed;
END
$$;

COMMENT ON FUNCTION voice_migration.refresh_held_tenants(text[]) IS
    'recompute public.voice_agent_v2_held_tenants from voice_agent_configs (NULL = all tenants); returns tenants that entered or left';
