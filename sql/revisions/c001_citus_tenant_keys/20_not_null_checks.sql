-- 20_not_null_checks.sql — CHECK (tenant_id IS NOT NULL) on configs and calls, NOT VALID.
--
-- What: adds voice_agent_configs_tenant_id_not_null and voice_agent_calls_tenant_id_not_null without
--       scanning (NOT VALID: only new writes are checked). Each ALTER takes a short ACCESS EXCLUSIVE
--       lock, bounded by lock_timeout. 30_/31_ validate them without blocking writers; 40_/41_ then
--       SET NOT NULL, which PostgreSQL (12+) proves from the validated CHECK instead of scanning.
-- Inputs: none. Revision c001_citus_tenant_keys, autocommit.
-- Re-run: safe (each constraint added only when missing).

DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['voice_agent_configs', 'voice_agent_calls'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
                        WHERE conrelid = pg_catalog.to_regclass('public.' || v_table)
                          AND conname = v_table || '_tenant_id_not_null') THEN
            EXECUTE pg_catalog.format(
                'ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (tenant_id IS NOT NULL) NOT VALID',
                v_table, v_table || '_tenant_id_not_null');
        END IF;
    END LOOP;
END
$$;
