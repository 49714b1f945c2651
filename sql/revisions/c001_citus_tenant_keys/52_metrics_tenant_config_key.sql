-- 52_metrics_tenant_config_key.sql — UNIQUE (tenant_id, config_id) on voice_agent_metrics, CONCURRENTLY.
--
-- What: the unique key Citus can keep on a metrics table distributed by tenant_id. The older
--       UNIQUE (config_id) stays: the metrics upserts (backfill_step, sql/fix/stale_metrics.sql) name it
--       in ON CONFLICT (config_id); it can go only after they say ON CONFLICT (tenant_id, config_id)
--       (docs/scaling.md, "What is still missing").
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF NOT EXISTS; an INVALID leftover: DROP INDEX CONCURRENTLY voice_agent_metrics_tenant_config_key).

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_metrics_tenant_config_key
    ON voice_agent_metrics (tenant_id, config_id);
