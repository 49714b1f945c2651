-- bare_backup.sql — the bare-SQL limit's backup: one CREATE TABLE AS per backed-up table.
--
-- What: copies tenants, voice_agent_configs and voice_agent_calls whole into voice_migration.bare_*;
--       no primary key, no checksum, no manifest (what `migrate`'s backup adds on top).
-- Inputs: a v1 database with the voice_migration schema absent or present.
-- Re-run: no (plain CREATE TABLE); the benchmark runs it once on a fresh copy of the data.

CREATE SCHEMA IF NOT EXISTS voice_migration;
CREATE TABLE voice_migration.bare_tenants AS SELECT * FROM tenants;
CREATE TABLE voice_migration.bare_configs AS SELECT * FROM voice_agent_configs;
CREATE TABLE voice_migration.bare_calls AS SELECT * FROM voice_agent_calls;
