-- 10_guard.sql — refuse the v1 sunset unless v2 is fully rolled out and the data is clean.
--
-- What: raises (and so rolls the sunset revision back) unless: voice_agent_v2_flags has the master
--       switch on at 100 %; no tenant override keeps a tenant on v1; every config is migrated
--       (none quarantined, none with schema_version NULL); every call has an outcome; and no v2
--       constraint is still NOT VALID. Run `voice-migration validate` before, too.
-- Inputs: voice_agent_v2_flags, voice_agent_v2_tenant_overrides (0002_v2_flags), the v2 columns.
-- Re-run: safe; read-only.

DO $$
DECLARE
    v_enabled boolean;
    v_percent integer;
    v_problem text;
BEGIN
    SELECT f.enabled, f.rollout_percentage INTO v_enabled, v_percent FROM voice_agent_v2_flags AS f LIMIT 1;
    IF v_enabled IS DISTINCT FROM true OR v_percent IS DISTINCT FROM 100 THEN
        v_problem := format('the rollout is at %s %% with the master switch %s (needs 100 %% and on)',
                            coalesce(v_percent::text, 'no flag row'), CASE WHEN v_enabled THEN 'on' ELSE 'off' END);
    ELSIF EXISTS (SELECT FROM voice_agent_v2_tenant_overrides AS o WHERE o.enabled = false) THEN
        v_problem := format('%s tenant(s) are held on v1 by an override',
                            (SELECT count(*) FROM voice_agent_v2_tenant_overrides AS o WHERE o.enabled = false));
    ELSIF EXISTS (SELECT FROM voice_agent_configs AS c WHERE c.schema_version IS NULL) THEN
        v_problem := format('%s config(s) are not migrated (see voice_migration.quarantine)',
                            (SELECT count(*) FROM voice_agent_configs AS c WHERE c.schema_version IS NULL));
    ELSIF EXISTS (SELECT FROM voice_agent_calls AS c WHERE c.outcome_code IS NULL) THEN
        v_problem := 'some calls have no outcome_code (the backfill has not finished)';
    ELSIF EXISTS (SELECT FROM pg_constraint AS k
                  WHERE k.conrelid IN ('voice_agent_configs'::regclass, 'voice_agent_calls'::regclass)
                    AND NOT k.convalidated) THEN
        v_problem := 'some v2 constraints are still NOT VALID (0004_v2_backfill has not completed)';
    END IF;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'v1 sunset refused: %', v_problem
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'finish the rollout (voice-migration rollout set-percentage 100), fix or release quarantined rows, run voice-migration validate, then run alembic -n sunset upgrade head again';
    END IF;
END
$$;
