-- rules_outcome_status v1 — generated from the outcome rules by voice_migration.compile_rules() (issue #16).
--
-- What: the function voice_migration.rules_outcome_status, generated (see sql/objects/compile_rules/v1.sql); this
--       file regenerates it, with the other compiled rule functions, from the rule tables as they are.
-- Inputs: compile_rules, the rule tables.
-- Re-run: safe (the same rules generate the same text).

SELECT voice_migration.compile_rules();
