-- 40_index.sql — the index the transformation routes through: calls by (tenant_id, config_id).
--
-- What: builds voice_agent_calls_tenant_config_idx CONCURRENTLY (v1 writers are never blocked),
--       before the backfill, because the configs phase (call directions), the metrics phase and the
--       dual-write trigger look calls up by their config, always together with the tenant.
-- Inputs: none. Must run outside a transaction block (alembic autocommit_block; psql autocommit).
-- Re-run: safe (IF NOT EXISTS). If a build was interrupted, PostgreSQL leaves an INVALID index that
--         IF NOT EXISTS would keep: drop it (DROP INDEX CONCURRENTLY voice_agent_calls_tenant_config_idx)
--         and run again (docs/transform.md).

CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_tenant_config_idx
    ON voice_agent_calls (tenant_id, config_id) INCLUDE (direction);
