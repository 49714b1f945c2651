-- 10_guard.sql — refuse, before changing anything, when a row has no tenant.
--
-- What: a primary key on (tenant_id, id) needs tenant_id NOT NULL, and Citus cannot place a row whose
--       distribution column is NULL. v1 is lax (tenant_id is nullable), so this counts the configs and
--       calls without a tenant and refuses with one line if there are any. Nothing is guessed: which
--       tenant such a row belongs to (or whether it is deleted) is the owner's decision.
-- Inputs: none. First step of revision c001_citus_tenant_keys (autocommit, one statement per file).
-- Re-run: safe (read-only).

DO $$
DECLARE
    v_configs bigint;
    v_calls   bigint;
BEGIN
    SELECT count(*) INTO v_configs FROM public.voice_agent_configs WHERE tenant_id IS NULL;
    SELECT count(*) INTO v_calls FROM public.voice_agent_calls WHERE tenant_id IS NULL;
    IF v_configs > 0 OR v_calls > 0 THEN
        RAISE EXCEPTION 'citus tenant keys refused: % configs and % calls have no tenant_id, and a primary key on (tenant_id, id) needs one',
            v_configs, v_calls
            USING ERRCODE = 'not_null_violation',
                  HINT = 'give those rows their tenant or delete them (SELECT id FROM voice_agent_configs WHERE tenant_id IS NULL), then run the upgrade again';
    END IF;
END
$$;
