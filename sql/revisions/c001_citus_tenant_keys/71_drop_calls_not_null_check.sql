-- 71_drop_calls_not_null_check.sql — drop voice_agent_calls_tenant_id_not_null (see 70_).
--
-- What: drops voice_agent_calls_tenant_id_not_null (a short ACCESS EXCLUSIVE lock, no scan).
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (IF EXISTS).

-- squawk-ignore ban-drop-constraint -- the CHECK is redundant: the column is NOT NULL now (40_/41_)
ALTER TABLE voice_agent_calls DROP CONSTRAINT IF EXISTS voice_agent_calls_tenant_id_not_null;
