-- tables.sql — the tables a dry run copies into its private schema (pg_temp).
--
-- What: schema, name and whether it is scoped by tenant, for every table the migration's phases and
--       verification read or write: the application tables (tenants, voice_agent_configs,
--       voice_agent_calls, voice_agent_metrics) and every bookkeeping table of voice_migration except
--       backup copies (backup_*) and downgrade archives (downgrade_archive_*), which nothing reads.
--       Tables that do not exist yet (a database below 0003_v2_expand) are simply not listed.
-- Inputs: none.  Re-run: safe (read-only catalog query).
SELECT n.nspname::text, c.relname::text, (c.relname = 'voice_agent_calls') AS scoped_by_tenant
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND ((n.nspname = 'public'
        AND c.relname IN ('tenants', 'voice_agent_configs', 'voice_agent_calls', 'voice_agent_metrics'))
       OR (n.nspname = 'voice_migration'
           AND c.relname !~ '^backup_[0-9]' AND c.relname !~ '^downgrade_archive_'))
ORDER BY n.nspname = 'public' DESC, c.relname
