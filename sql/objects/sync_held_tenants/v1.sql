-- sync_held_tenants v1 — keep public.voice_agent_v2_held_tenants true on every config write.
--
-- What: the trigger function voice_migration.sync_held_tenants() of four AFTER ... FOR EACH STATEMENT
--   triggers on voice_agent_configs (objects voice_agent_configs_held_insert, _update, _delete: PostgreSQL
--   allows transition tables on one event per trigger; and _truncate). Per statement, from the transition tables: every old row not in v2
--   shape counts -1 for its tenant, every new one +1 (an UPDATE that changes tenant_id moves the count
--   from one tenant to the other; rows whose shape did not change cancel out). The deltas are applied
--   with an upsert (positive) and an update (negative); a tenant whose count reaches 0 leaves the set.
--   Cost: one GROUP BY over the statement's own rows and one index probe per tenant it touched — never
--   a scan of the configs — so a backfill batch of 5,000 configs pays for 5,000 rows, not for the table.
--   Deltas rather than a recount: concurrent writers of the same tenant then never lose each other's
--   counts (the row lock of the upsert/update orders them, and the new value is re-read under READ
--   COMMITTED). Rows are locked in tenant_id order so two multi-tenant statements cannot deadlock here.
--   When a tenant enters or leaves the set (not when only its count changes): the held filter of the flags
--   row is recomputed (voice_migration.refresh_held_filter) and voice_agent_v2_flags is NOTIFYed (payload
--   'voice_agent_v2_held_tenants') at commit.
--   SECURITY DEFINER: an application role that may write configs needs no rights on the held set.
--   Writes made with the triggers disabled (the data restore does that) are followed by
--   voice_migration.refresh_held_tenants().
-- Inputs: none. Installed by revision 0008_quarantine_hold (20_hold_objects.objects).
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.sync_held_tenants() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenants text[];
    v_deltas  integer[];
    v_entered bigint := 0;
    v_left    bigint := 0;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.voice_agent_v2_held_tenants;
        GET DIAGNOSTICS v_left = ROW_COUNT;
    ELSE
        -- Each branch names only the transition tables its trigger has.
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(d.tenant_id ORDER BY d.tenant_id), array_agg(d.delta ORDER BY d.tenant_id)
              INTO v_tenants, v_deltas
              FROM (SELECT n.tenant_id, count(*)::integer AS delta FROM new_rows AS n
                     WHERE n.schema_version IS DISTINCT FROM 'v2' AND n.tenant_id IS NOT NULL
                     GROUP BY n.tenant_id) AS d;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(d.tenant_id ORDER BY d.tenant_id), array_agg(d.delta ORDER BY d.tenant_id)
              INTO v_tenants, v_deltas
              FROM (SELECT o.tenant_id, -count(*)::integer AS delta FROM old_rows AS o
                     WHERE o.schema_version IS DISTINCT FROM 'v2' AND o.tenant_id IS NOT NULL
                     GROUP BY o.tenant_id) AS d;
        ELSE
            SELECT array_agg(d.tenant_id ORDER BY d.tenant_id), array_agg(d.delta ORDER BY d.tenant_id)
              INTO v_tenants, v_deltas
              FROM (SELECT x.tenant_id, sum(x.delta)::integer AS delta
                      FROM (SELECT n.tenant_id, 1 AS delta FROM new_rows AS n
                             WHERE n.schema_version IS DISTINCT FROM 'v2'
                            UNION ALL
                            SELECT o.tenant_id, -1 FROM old_rows AS o
                             WHERE o.schema_version IS DISTINCT FROM 'v2') AS x
                     WHERE x.tenant_id IS NOT NULL
                     GROUP BY x.tenant_id
                    HAVING sum(x.delta) <> 0) AS d;
        END IF;
        IF v_tenants IS NULL THEN
            RETURN NULL;  -- no config of this statement changed its shape or its tenant
        END IF;
        PERFORM FROM public.voice_agent_v2_held_tenants AS h
          WHERE h.tenant_id = ANY (v_tenants) ORDER BY h.tenant_id FOR UPDATE;
        UPDATE public.voice_agent_v2_held_tenants AS h SET configs = h.configs + d.delta
          FROM unnest(v_tenants, v_deltas) AS d (tenant_id, delta)
         WHERE h.tenant_id = d.tenant_id AND d.delta < 0;
        WITH upserted AS (
            INSERT INTO public.voice_agent_v2_held_tenants AS h (tenant_id, configs)
            SELECT d.tenant_id, d.delta FROM unnest(v_tenants, v_deltas) AS d (tenant_id, delta)
             WHERE d.delta > 0 ORDER BY d.tenant_id
            ON CONFLICT (tenant_id) DO UPDATE SET configs = h.configs + excluded.configs
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) INTO v_entered FROM upserted;
        DELETE FROM public.voice_agent_v2_held_tenants AS h WHERE h.tenant_id = ANY (v_tenants) AND h.configs <= 0;
        GET DIAGNOSTICS v_left = ROW_COUNT;
    END IF;
    IF v_entered + v_left > 0 THEN
        PERFORM voice_migration.refresh_held_filter();
        PERFORM pg_notify('voice_agent_v2_flags', 'voice_agent_v2_held_tenants');
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION voice_migration.sync_held_tenants() IS
    'statement trigger on voice_agent_configs: keeps public.voice_agent_v2_held_tenants (tenants with a config not in v2 shape)';
