-- 20_contract.sql — the v1 sunset (contract step): v1 columns and dual-write triggers go.
--
-- What: copies the v1-only columns (configs prompt, voice_id, language; calls outcome) into
--       voice_migration.sunset_archive_configs / sunset_archive_calls, then drops the dual-write
--       triggers and those columns. name, enabled and the call columns v2 still reads stay.
-- Inputs: a database that passed 10_guard.sql.  Re-run: no (run once, by revision 0005_v1_sunset).
-- Locks: one short ACCESS EXCLUSIVE per table (bounded by lock_timeout); DROP COLUMN does not rewrite.

CREATE TABLE IF NOT EXISTS voice_migration.sunset_archive_configs AS
SELECT now() AS archived_at, c.id, c.tenant_id, c.prompt, c.voice_id, c.language FROM voice_agent_configs AS c;

CREATE TABLE IF NOT EXISTS voice_migration.sunset_archive_calls AS
SELECT now() AS archived_at, c.id, c.tenant_id, c.outcome FROM voice_agent_calls AS c WHERE c.outcome IS NOT NULL;

DROP TRIGGER IF EXISTS voice_agent_configs_dual_write ON voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_calls_dual_write ON voice_agent_calls;

ALTER TABLE voice_agent_configs DROP COLUMN prompt, DROP COLUMN voice_id, DROP COLUMN language;
ALTER TABLE voice_agent_calls DROP COLUMN outcome;
