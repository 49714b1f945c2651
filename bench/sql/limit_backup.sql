-- limit_backup.sql — the honest limit's backup: one CREATE TABLE AS per backed-up table.
--
-- What: copies tenants, voice_agent_configs and voice_agent_calls whole into voice_migration.limit_*;
--       no primary key, no checksum, no manifest (what `migrate`'s backup adds on top).
-- Inputs: a v1 database (the voice_migration schema absent or present).
-- Re-run: no (plain CREATE TABLE); the benchmark runs it once on a fresh copy of the data.

CREATE SCHEMA IF NOT EXISTS voice_migration;
CREATE TABLE voice_migration.limit_tenants AS SELECT * FROM tenants;
CREATE TABLE voice_migration.limit_configs AS SELECT * FROM voice_agent_configs;
CREATE TABLE voice_migration.limit_calls AS SELECT * FROM voice_agent_calls;
