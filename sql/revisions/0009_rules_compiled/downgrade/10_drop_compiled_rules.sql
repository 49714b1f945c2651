-- 0009_rules_compiled downgrade, step 1 — drop what the revision introduced, triggers first.
--
-- What: the rule triggers and their function, the generated rule functions, compile_rules,
--       rules_checksum and the registry/policy functions. The release 0.1 definitions of
--       derive_call_outcomes, backfill_step and backfill are put back by 20_release_0_1.objects
--       (before the policy functions they no longer call are dropped: see 30_*).
-- Inputs: none.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the two small rule tables (under lock_timeout).
-- Re-run: safe (IF EXISTS).

DROP TRIGGER IF EXISTS outcome_rules_recompile ON voice_migration.outcome_rules;
DROP TRIGGER IF EXISTS legacy_outcome_map_recompile ON voice_migration.legacy_outcome_map;
DROP FUNCTION IF EXISTS voice_migration.rules_recompile();
