-- 41_calls_tenant_not_null.sql — voice_agent_calls.tenant_id NOT NULL, without a table scan.
--
-- What: SET NOT NULL takes a short ACCESS EXCLUSIVE lock (bounded by lock_timeout); the validated
--       CHECK of 20_/31_ proves no NULL exists, so PostgreSQL does not scan the table.
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (no-op when already NOT NULL).

-- squawk-ignore prefer-robust-stmts -- SET NOT NULL on a NOT NULL column is a no-op: safe to re-run alone
ALTER TABLE voice_agent_calls ALTER COLUMN tenant_id SET NOT NULL;
