-- 20_drop_v2.sql — remove what 0003_v2_expand added, after 10_archive_v2.sql kept a copy.
--
-- What: drops the dual-write and catalog-guard triggers, the transform and backfill routines, the
--       metrics table and the v2 columns (DROP COLUMN is a catalog change: the v1 columns of every
--       row stay byte-identical), and forgets the backfill position (a later upgrade starts over).
--       Kept in voice_migration: quarantine, catalogs and rule tables (a DBA's additions survive),
--       the normalisers they depend on, backups and the downgrade archives.
-- Inputs: none.  Re-run: safe (IF EXISTS everywhere).
-- Locks: one short ACCESS EXCLUSIVE per table (bounded by lock_timeout).

DROP TRIGGER IF EXISTS voice_agent_configs_dual_write ON voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_catalog_guard_insert ON voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_catalog_guard_update ON voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_calls_dual_write ON voice_agent_calls;
DROP TRIGGER IF EXISTS voice_agent_calls_catalog_guard_insert ON voice_agent_calls;
DROP TRIGGER IF EXISTS voice_agent_calls_catalog_guard_update ON voice_agent_calls;
DROP TRIGGER IF EXISTS capability_catalog_keep_codes ON voice_migration.capability_catalog;
DROP TRIGGER IF EXISTS outcome_catalog_keep_codes ON voice_migration.outcome_catalog;

DROP PROCEDURE IF EXISTS voice_migration.backfill(integer, text[], integer);
DROP FUNCTION IF EXISTS voice_migration.backfill_step(text, integer, text[]);
DROP FUNCTION IF EXISTS voice_migration.backfill_pending(text, text[]);
DROP FUNCTION IF EXISTS voice_migration.configs_dual_write();
DROP FUNCTION IF EXISTS voice_migration.calls_dual_write();
DROP FUNCTION IF EXISTS voice_migration.configs_catalog_guard();
DROP FUNCTION IF EXISTS voice_migration.calls_catalog_guard();
DROP FUNCTION IF EXISTS voice_migration.catalog_keep_codes();
DROP FUNCTION IF EXISTS voice_migration.derive_configs(voice_agent_configs[]);
DROP FUNCTION IF EXISTS voice_migration.derive_call_outcomes(voice_agent_calls[]);
DROP FUNCTION IF EXISTS voice_migration.derive_metrics(voice_agent_configs[]);
DROP FUNCTION IF EXISTS voice_migration.normalize_language(text);
DROP FUNCTION IF EXISTS voice_migration.call_damage(voice_agent_calls[]);
DROP FUNCTION IF EXISTS voice_migration.backfill_scope(text[]);

DROP TABLE IF EXISTS voice_agent_metrics;

ALTER TABLE voice_agent_configs
    DROP COLUMN IF EXISTS assistant_type,
    DROP COLUMN IF EXISTS voice_config,
    DROP COLUMN IF EXISTS personality,
    DROP COLUMN IF EXISTS capabilities,
    DROP COLUMN IF EXISTS schema_version,
    DROP COLUMN IF EXISTS migrated_at,
    DROP COLUMN IF EXISTS migrated_from;

ALTER TABLE voice_agent_calls
    DROP COLUMN IF EXISTS outcome_code,
    DROP COLUMN IF EXISTS outcome_source;

DELETE FROM voice_migration.backfill_progress;
