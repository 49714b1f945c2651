-- 71_drop_calls_not_null_check.sql — drop voice_agent_calls_tenant_id_not_null (see 70_).
--
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF EXISTS).

ALTER TABLE voice_agent_calls DROP CONSTRAINT IF EXISTS voice_agent_calls_tenant_id_not_null;
