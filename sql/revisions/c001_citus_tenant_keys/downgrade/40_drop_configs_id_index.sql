-- 40_drop_configs_id_index.sql — drop voice_agent_configs_id_idx, CONCURRENTLY: the primary key on (id) serves again.
--
-- What: drops the plain (id) index of the upgrade without blocking writers.
-- Inputs: none. Downgrade of c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF EXISTS).

DROP INDEX CONCURRENTLY IF EXISTS voice_agent_configs_id_idx;
