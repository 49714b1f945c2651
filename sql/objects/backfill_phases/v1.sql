-- backfill_phases v1 — the one registry of backfill phases (issues #13, #16).
--
-- What: the function voice_migration.backfill_phases() -> (phase, position, step, key_table): the phases
--       of backfill_step in run order, the step name migrate reports for each, and the table whose keys
--       it walks. backfill_step refuses a phase not listed here; the procedure voice_migration.backfill,
--       voice_migration/migration/backfill.py and migrate (run.py) iterate over it.
-- Inputs: none.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.backfill_phases()
RETURNS TABLE (phase text, "position" integer, step text, key_table text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM (VALUES
        ('configs', 1, 'transform configs', 'voice_agent_configs'),
        ('calls', 2, 'infer outcomes', 'voice_agent_calls'),
        ('metrics', 3, 'metrics', 'voice_agent_configs')
    ) AS p (phase, "position", step, key_table)
$$;
