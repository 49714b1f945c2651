-- rules_recompile v1 — the trigger function that recompiles the outcome rules (issue #16).
--
-- What: the trigger function voice_migration.rules_recompile(): runs compile_rules() after any
--       statement that changes legacy_outcome_map or outcome_rules, in the same transaction, so the
--       compiled rules never lag the rows. SECURITY INVOKER, like every routine but the audit triggers: the
--       role that changes rule rows must be allowed to replace the generated functions (their owner, the
--       migration admin); any other role's change fails with CREATE OR REPLACE's error and rolls back, so
--       a rule change is never left uncompiled.
-- Inputs: compile_rules.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.rules_recompile()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM voice_migration.compile_rules();
    RETURN NULL;
END
$$;
