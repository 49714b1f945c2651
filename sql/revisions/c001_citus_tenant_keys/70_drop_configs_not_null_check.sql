-- 70_drop_configs_not_null_check.sql — drop the CHECK constraint of 20_ on configs, now carried by NOT NULL.
--
-- What: drops voice_agent_configs_tenant_id_not_null (a short
--       ACCESS EXCLUSIVE lock, bounded by lock_timeout; no scan).
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF EXISTS).

-- squawk-ignore ban-drop-constraint -- the CHECK is redundant: the column is NOT NULL now (40_/41_)
ALTER TABLE voice_agent_configs DROP CONSTRAINT IF EXISTS voice_agent_configs_tenant_id_not_null;
