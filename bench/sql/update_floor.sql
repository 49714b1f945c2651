-- update_floor.sql — PostgreSQL's own floor for the calls phase: one UPDATE that sets a constant outcome.
--
-- What: every call gets outcome_code 'other' / outcome_source 'inferred' in one statement, with no
--       transform at all (the dual-write trigger is skipped like the backfill skips it; the statement-
--       level catalog guard still runs, as for any write). No way of filling the two columns of every
--       existing call in place can be faster than this on the same server.
-- Inputs: a database at Alembic head whose backfill has not run.
-- Re-run: safe.

SELECT set_config('voice_migration.backfill', 'on', true);

UPDATE voice_agent_calls SET outcome_code = 'other', outcome_source = 'inferred';
