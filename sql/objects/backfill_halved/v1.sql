-- backfill_halved v1 — the batch size after a statement timeout (issues #13, #16).
--
-- What: the function voice_migration.backfill_halved(batch_size) -> batch size: half of it (at least 1)
--       for the retry of a batch that hit statement_timeout, or NULL when the batch was a single row and
--       the run must stop (raise statement_timeout). The one halving policy of both backfill drivers;
--       an operator's cancel (not a statement timeout) is never retried by either.
-- Inputs: none.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.backfill_halved(p_batch_size integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN p_batch_size > 1 THEN p_batch_size / 2 END $$;
