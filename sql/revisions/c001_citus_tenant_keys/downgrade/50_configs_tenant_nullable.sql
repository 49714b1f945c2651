-- 50_configs_tenant_nullable.sql — voice_agent_configs.tenant_id nullable again, as v1 has it.
--
-- What: DROP NOT NULL (a short ACCESS EXCLUSIVE lock, no scan). The guard CHECK of the upgrade was
--       dropped there already; DROP CONSTRAINT IF EXISTS covers an upgrade that stopped before.
-- Inputs: none. Downgrade of c001_citus_tenant_keys, autocommit.
-- Re-run: safe.

-- squawk-ignore prefer-robust-stmts,ban-drop-not-null,ban-drop-constraint -- restores v1's nullable tenant_id (0001); re-running is a no-op
ALTER TABLE voice_agent_configs ALTER COLUMN tenant_id DROP NOT NULL, DROP CONSTRAINT IF EXISTS voice_agent_configs_tenant_id_not_null;
