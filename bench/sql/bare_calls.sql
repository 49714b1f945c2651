-- bare_calls.sql — the bare-SQL limit's outcome inference: one UPDATE over every call.
--
-- What: outcome_code / outcome_source of every call from the project's own
--       voice_migration.derive_call_outcomes over the whole table at once (no batches, no progress
--       row, no quarantine sync); the dual-write trigger is skipped the way the backfill skips it.
--       The whole table travels as one array: fine up to a few million calls (an array is limited
--       to 1 GB), which is why the benchmark runs the bare limit only up to 1,000,000 calls.
-- Inputs: a database at Alembic head whose backfill has not run.
-- Re-run: safe (only calls without an outcome are written).

SELECT set_config('voice_migration.backfill', 'on', true);

UPDATE voice_agent_calls AS c
SET outcome_code = d.outcome_code, outcome_source = d.outcome_source
FROM voice_migration.derive_call_outcomes(ARRAY(SELECT x FROM voice_agent_calls AS x)) AS d
WHERE c.id = d.id AND c.outcome_code IS NULL;
