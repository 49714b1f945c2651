-- legacy_outcome_map_recompile v1 — recompile the outcome rules when legacy_outcome_map changes (issue #16).
--
-- What: the statement trigger legacy_outcome_map_recompile on voice_migration.legacy_outcome_map: after INSERT,
--       UPDATE, DELETE or TRUNCATE, rules_recompile() regenerates the compiled rules.
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the (small, rarely written) rule table.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER).

DROP TRIGGER IF EXISTS legacy_outcome_map_recompile ON voice_migration.legacy_outcome_map;

CREATE TRIGGER legacy_outcome_map_recompile
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON voice_migration.legacy_outcome_map
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.rules_recompile();
