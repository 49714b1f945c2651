-- 31_validate_calls_check.sql — validate voice_agent_calls_tenant_id_not_null.
--
-- What: scans voice_agent_calls under SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile.
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit (its own transaction, so the short
--         ACCESS EXCLUSIVE lock of 20_not_null_checks.sql is not held during the scan).
-- Re-run: safe (validating a valid constraint is a no-op).

-- squawk-ignore prefer-robust-stmts -- re-running VALIDATE on a valid constraint is a no-op, and it must run alone
ALTER TABLE voice_agent_calls VALIDATE CONSTRAINT voice_agent_calls_tenant_id_not_null;
