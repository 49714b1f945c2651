-- 10_guard.sql — refuse the downgrade, before changing anything, when two tenants share an id.
--
-- What: the downgrade restores the primary keys on (id) alone. Since c001, ids are unique per tenant
--       only, so an id written by two tenants since then would make that impossible. Counts such ids in
--       configs and calls and refuses with one line if there are any.
-- Inputs: none. First step of the downgrade of c001_citus_tenant_keys (autocommit).
-- Re-run: safe (read-only).

DO $$
DECLARE
    v_configs bigint;
    v_calls   bigint;
BEGIN
    SELECT count(*) INTO v_configs
      FROM (SELECT id FROM public.voice_agent_configs GROUP BY id HAVING count(*) > 1) AS d;
    SELECT count(*) INTO v_calls
      FROM (SELECT id FROM public.voice_agent_calls GROUP BY id HAVING count(*) > 1) AS d;
    IF v_configs > 0 OR v_calls > 0 THEN
        RAISE EXCEPTION 'citus tenant keys downgrade refused: % config ids and % call ids are used by more than one tenant, and a primary key on (id) needs them unique',
            v_configs, v_calls
            USING ERRCODE = 'unique_violation',
                  HINT = 'rename the duplicates (SELECT id FROM voice_agent_configs GROUP BY id HAVING count(*) > 1), then run the downgrade again';
    END IF;
END
$$;
