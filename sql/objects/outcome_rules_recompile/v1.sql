-- outcome_rules_recompile v1 — recompile the outcome rules when outcome_rules changes (issue #16).
--
-- What: the statement trigger outcome_rules_recompile on voice_migration.outcome_rules: after INSERT,
--       UPDATE, DELETE or TRUNCATE, rules_recompile() regenerates the compiled rules.
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the (small, rarely written) rule table.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER).

DROP TRIGGER IF EXISTS outcome_rules_recompile ON voice_migration.outcome_rules;

CREATE TRIGGER outcome_rules_recompile
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON voice_migration.outcome_rules
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.rules_recompile();
