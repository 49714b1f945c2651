-- 55_configs_id_index.sql — a plain index on voice_agent_configs (id), built CONCURRENTLY.
--
-- What: the primary key on (tenant_id, id) cannot serve a lookup or an ORDER BY by id alone, which the
--       backfill's keyset walk (backfill_step: id > last_key ORDER BY id), the dual-write triggers and
--       the applications do. Not unique: Citus accepts no unique index without the distribution column.
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF NOT EXISTS; an INVALID leftover: DROP INDEX CONCURRENTLY voice_agent_configs_id_idx).

CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_configs_id_idx ON voice_agent_configs (id);
