-- 30_configs_primary_key.sql — swap voice_agent_configs's primary key back from (tenant_id, id) to (id).
--
-- What: one ALTER TABLE under a short ACCESS EXCLUSIVE lock (lock_timeout): drop the primary key on
--       (tenant_id, id) with its index and promote the index of 2x_ (renamed voice_agent_configs_pkey, as
--       revision 0001 named it).
-- Inputs: none. Downgrade of c001_citus_tenant_keys, autocommit.
-- Re-run: safe (skipped when the primary key already is (id)).

DO $$
BEGIN
    IF (SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.n)
          FROM pg_catalog.pg_constraint AS c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, n)
          JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         WHERE c.conrelid = 'public.voice_agent_configs'::regclass AND c.contype = 'p') = ARRAY['tenant_id', 'id'] THEN
        ALTER TABLE public.voice_agent_configs
            DROP CONSTRAINT voice_agent_configs_pkey,
            ADD CONSTRAINT voice_agent_configs_pkey PRIMARY KEY USING INDEX voice_agent_configs_id_key;
    END IF;
END
$$;
