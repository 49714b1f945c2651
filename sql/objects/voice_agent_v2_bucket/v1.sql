-- voice_agent_v2_bucket v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_bucket, exactly as revision 0002_v2_flags installs it
--       (sql/revisions/0002_v2_flags/30_functions.sql, whose header explains the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE; COMMENT and REVOKE are idempotent). Identical text changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_bucket(tenant_id text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100)::integer
$$;

COMMENT ON FUNCTION voice_agent_v2_bucket(text) IS
    'voice agent v2 rollout bucket 0..99 of a tenant id: md5-based, same as the Python client';

REVOKE ALL ON FUNCTION voice_agent_v2_bucket(text) FROM PUBLIC;
