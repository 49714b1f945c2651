-- backfill_policy v1 — the one batching and retry policy of the backfill (issues #13, #16).
--
-- What: the function voice_migration.backfill_policy() -> (default_batch_size, lock_attempts,
--       first_pause_seconds, max_pause_seconds): the batch size a run uses when none is given, how many
--       times a batch whose rows stay locked past lock_timeout is tried before the run gives up, and
--       the back-off between tries (first pause, doubling, capped). Read by both drivers of
--       backfill_step: the procedure voice_migration.backfill and voice_migration/migration/backfill.py
--       (through backfill_pause and backfill_halved), and by migrate for its default --batch-size.
--       5,000: measured, 1,000 cost ~10 % more at 1M calls (docs/benchmarks.md); 5 tries, 0.2 s doubling
--       to at most 5 s: ~3 s of waiting before the operator is told which session holds the rows.
-- Inputs: none.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.backfill_policy(
    OUT default_batch_size integer, OUT lock_attempts integer,
    OUT first_pause_seconds double precision, OUT max_pause_seconds double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 5000, 5, 0.2::float8, 5.0::float8 $$;
