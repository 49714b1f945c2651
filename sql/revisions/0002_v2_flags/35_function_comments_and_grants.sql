-- 35_function_comments_and_grants.sql — comments on the rollout-decision functions; EXECUTE revoked from PUBLIC.
--
-- What: COMMENT ON voice_agent_v2_bucket, voice_agent_v2_override_bits and voice_agent_v2_enabled (installed by
--       30_functions.objects, whose comments explain them), and REVOKE ALL ON them FROM PUBLIC: grant EXECUTE to
--       the application role (docs/rollout.md, "Grants").
-- Inputs: the three functions. Run by revision 0002_v2_flags after 30_functions.objects.
-- Re-run: safe (COMMENT and REVOKE are idempotent).

COMMENT ON FUNCTION voice_agent_v2_bucket(text) IS
    'voice agent v2 rollout bucket 0..99 of a tenant id: md5-based, same as the Python client';
COMMENT ON FUNCTION voice_agent_v2_override_bits(text) IS
    'voice agent v2 rollout: the three bits of a tenant id in voice_agent_v2_flags.override_filter';
COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_bucket(text), voice_agent_v2_override_bits(text), voice_agent_v2_enabled(text)
    FROM PUBLIC;
