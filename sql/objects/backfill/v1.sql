-- backfill v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the procedure voice_migration.backfill, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/65_backfill_procedure.objects, whose comments explain the design).
-- Inputs: the tables and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE PROCEDURE voice_migration.backfill(
    p_batch_size integer DEFAULT 5000, p_tenant_ids text[] DEFAULT NULL, p_lock_retries integer DEFAULT 5)
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    v_phase    text;
    v_size     integer;
    v_attempts integer;
    v_step     record;
    v_changed  bigint;
BEGIN
    FOREACH v_phase IN ARRAY ARRAY['configs', 'calls', 'metrics'] LOOP
        v_size := p_batch_size;
        v_changed := 0;
        LOOP
            v_attempts := 0;
            LOOP
                BEGIN
                    SELECT * INTO v_step FROM voice_migration.backfill_step(v_phase, v_size, p_tenant_ids);
                    EXIT;
                EXCEPTION
                    WHEN lock_not_available THEN
                        v_attempts := v_attempts + 1;
                        IF v_attempts > p_lock_retries THEN
                            RAISE EXCEPTION 'backfill %: rows stayed locked by another transaction through % attempts (lock_timeout %)',
                                v_phase, v_attempts, pg_catalog.current_setting('lock_timeout')
                                USING ERRCODE = 'lock_not_available',
                                      HINT = 'find the blocking transaction in pg_stat_activity, let it finish or end it, then run the backfill again: it resumes at the last committed batch';
                        END IF;
                        -- float8 everywhere: each operator then has an exact match in pg_catalog (searched
                        -- before public unless a caller's search_path says otherwise), so an operator
                        -- planted in public with closer argument types cannot stand in for it.
                        PERFORM pg_catalog.pg_sleep(LEAST(0.1::float8 * 2::float8 ^ v_attempts::float8, 5::float8));
                    WHEN query_canceled THEN
                        -- only a statement_timeout halves the batch; an operator's cancel stops the run
                        IF SQLERRM NOT LIKE '%statement timeout%' OR v_size = 1 THEN
                            RAISE;
                        END IF;
                        v_size := GREATEST(v_size / 2, 1);
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
