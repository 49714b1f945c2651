-- 51_calls_tenant_id_key.sql — the future primary key's index, built CONCURRENTLY.
--
-- What: UNIQUE (tenant_id, id) on voice_agent_calls, built without blocking writers; 6x_ turns it into the
--       primary key. Unique because id is (the current primary key says so).
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit (CONCURRENTLY cannot run in a transaction).
-- Re-run: safe (IF NOT EXISTS). An interrupted build leaves an INVALID index that IF NOT EXISTS keeps:
--         DROP INDEX CONCURRENTLY voice_agent_calls_tenant_id_id_key, then run again.

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_tenant_id_id_key
    ON voice_agent_calls (tenant_id, id);
