-- 60_configs_primary_key.sql — swap voice_agent_configs's primary key from (id) to (tenant_id, id).
--
-- What: one ALTER TABLE under a short ACCESS EXCLUSIVE lock, bounded by lock_timeout: drop the primary
--       key on (id) and promote the unique index of 5x_ to the primary key USING INDEX (no build, no
--       scan: tenant_id and id are NOT NULL already). The index takes the constraint's name,
--       voice_agent_configs_pkey. Ids stay unique per tenant; across tenants nothing enforces it any more.
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (skipped when the primary key already is (tenant_id, id)).

DO $$
BEGIN
    IF (SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.n)
          FROM pg_catalog.pg_constraint AS c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, n)
          JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         WHERE c.conrelid = 'public.voice_agent_configs'::regclass AND c.contype = 'p') = ARRAY['id'] THEN
        ALTER TABLE public.voice_agent_configs
            DROP CONSTRAINT voice_agent_configs_pkey,
            ADD CONSTRAINT voice_agent_configs_pkey PRIMARY KEY USING INDEX voice_agent_configs_tenant_id_id_key;
    END IF;
END
$$;
