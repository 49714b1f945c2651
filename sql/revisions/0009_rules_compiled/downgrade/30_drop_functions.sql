-- 0009_rules_compiled downgrade, step 3 — drop the functions 0009 introduced (nothing at 0008 calls them).
--
-- What: the registry, policy, compiler and generated functions.
-- Inputs: none.
-- Re-run: safe (IF EXISTS).

DROP FUNCTION IF EXISTS voice_migration.rules_compiled();
DROP FUNCTION IF EXISTS voice_migration.rules_outcome_manual(text);
DROP FUNCTION IF EXISTS voice_migration.rules_outcome_status(text, text);
DROP FUNCTION IF EXISTS voice_migration.rules_outcome_transcript(text);
DROP FUNCTION IF EXISTS voice_migration.rules_outcome_short(boolean, integer);
DROP FUNCTION IF EXISTS voice_migration.rules_outcome_code(integer);
DROP FUNCTION IF EXISTS voice_migration.compile_rules();
DROP FUNCTION IF EXISTS voice_migration.rules_checksum();
DROP FUNCTION IF EXISTS voice_migration.backfill_phases();
DROP FUNCTION IF EXISTS voice_migration.backfill_halved(integer);
DROP FUNCTION IF EXISTS voice_migration.backfill_pause(integer, integer);
DROP FUNCTION IF EXISTS voice_migration.backfill_policy();
