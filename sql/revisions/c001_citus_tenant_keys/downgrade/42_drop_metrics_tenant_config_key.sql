-- 42_drop_metrics_tenant_config_key.sql — drop voice_agent_metrics_tenant_config_key, CONCURRENTLY.
--
-- What: UNIQUE (config_id), kept by the upgrade, still holds; this key was new in c001.
-- Inputs: none. Downgrade of c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF EXISTS).

DROP INDEX CONCURRENTLY IF EXISTS voice_agent_metrics_tenant_config_key;
