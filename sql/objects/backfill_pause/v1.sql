-- backfill_pause v1 — how long to wait before the next try of a locked batch (issues #13, #16).
--
-- What: the function voice_migration.backfill_pause(failed_tries, attempts DEFAULT NULL) -> seconds:
--       after the failed_tries-th lock timeout of the same batch, the pause before trying again
--       (first_pause_seconds * 2^(failed_tries - 1), at most max_pause_seconds), or NULL when the
--       batch has had all its tries (attempts; NULL = backfill_policy().lock_attempts) and the run
--       must give up. The one retry policy of both backfill drivers.
-- Inputs: backfill_policy.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.backfill_pause(p_failed_tries integer, p_attempts integer DEFAULT NULL)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    -- float8 everywhere: each operator has an exact match in pg_catalog, so an operator planted in
    -- public with closer argument types cannot stand in for it.
    SELECT CASE WHEN p_failed_tries < coalesce(p_attempts, p.lock_attempts)
                THEN least(p.first_pause_seconds * 2::float8 ^ (greatest(p_failed_tries, 1) - 1)::float8,
                           p.max_pause_seconds) END
    FROM voice_migration.backfill_policy() AS p
$$;
