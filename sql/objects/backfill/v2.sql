-- backfill v2 — the plain-SQL driver of the backfill, on the one registry and policy (issues #13, #16).
--
-- What: the procedure voice_migration.backfill(batch_size, tenant_ids, lock_retries): every phase of
--       voice_migration.backfill_phases() in order, one committed backfill_step per batch, as v1; but the
--       default batch size is backfill_policy().default_batch_size (NULL = the policy), a locked batch is
--       retried after backfill_pause() (NULL lock_retries = the policy's tries; a number = that many
--       retries after the first try, as in v1), and a statement timeout halves the batch by
--       backfill_halved() — the same policy as the Python driver (voice_migration/migration/backfill.py).
--       The signature is v1's, so `CALL voice_migration.backfill(5000)` (revision 0004) still works.
-- Inputs: backfill_step, backfill_phases, backfill_policy, backfill_pause, backfill_halved.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE PROCEDURE voice_migration.backfill(
    p_batch_size integer DEFAULT NULL, p_tenant_ids text[] DEFAULT NULL, p_lock_retries integer DEFAULT NULL)
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    v_phase    text;
    v_size     integer;
    v_failed   integer;
    v_pause    float8;
    v_step     record;
    v_changed  bigint;
BEGIN
    FOR v_phase IN SELECT r.phase FROM voice_migration.backfill_phases() AS r ORDER BY r.position LOOP
        v_size := coalesce(p_batch_size, (SELECT p.default_batch_size FROM voice_migration.backfill_policy() AS p));
        v_changed := 0;
        LOOP
            v_failed := 0;
            LOOP
                BEGIN
                    SELECT * INTO v_step FROM voice_migration.backfill_step(v_phase, v_size, p_tenant_ids);
                    EXIT;
                EXCEPTION
                    WHEN lock_not_available THEN
                        v_failed := v_failed + 1;
                        v_pause := voice_migration.backfill_pause(v_failed, p_lock_retries + 1);
                        IF v_pause IS NULL THEN
                            RAISE EXCEPTION 'backfill %: rows stayed locked by another transaction through % attempts (lock_timeout %)',
                                v_phase, v_failed, pg_catalog.current_setting('lock_timeout')
                                USING ERRCODE = 'lock_not_available',
                                      HINT = 'find the blocking transaction in pg_stat_activity, let it finish or end it, then run the backfill again: it resumes at the last committed batch';
                        END IF;
                        PERFORM pg_catalog.pg_sleep(v_pause);
                    WHEN query_canceled THEN
                        -- only a statement_timeout halves the batch; an operator's cancel stops the run
                        IF SQLERRM NOT LIKE '%statement timeout%' OR voice_migration.backfill_halved(v_size) IS NULL THEN
                            RAISE;
                        END IF;
                        v_size := voice_migration.backfill_halved(v_size);
                        RAISE NOTICE 'backfill %: statement timeout, batch size halved to %', v_phase, v_size;
                END;
            END LOOP;
            v_changed := v_changed + v_step.rows_changed;
            COMMIT;
            EXIT WHEN v_step.finished;
        END LOOP;
        RAISE NOTICE 'backfill %: done, % rows changed', v_phase, v_changed;
    END LOOP;
END
$$;
