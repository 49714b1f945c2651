-- 21_calls_id_key.sql — UNIQUE (id) on voice_agent_calls again, built CONCURRENTLY.
--
-- What: the index the restored primary key on (id) will use (3x_). Writers are not blocked.
-- Inputs: none. Downgrade of c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF NOT EXISTS; an INVALID leftover: DROP INDEX CONCURRENTLY voice_agent_calls_id_key).

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_id_key ON voice_agent_calls (id);
