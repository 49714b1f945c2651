-- functions.sql — the rollout decision in SQL (DESIGN.md section 5).
--
-- What: installs
--   * voice_agent_v2_bucket(tenant_id text) -> int: the tenant's bucket 0..99,
--       ('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100. md5 reads the text's bytes in the
--       database encoding, so on a UTF8 database it equals Python's
--       int(hashlib.md5(tenant_id.encode()).hexdigest()[:8], 16) % 100 for every string
--       (tests/test_flags_bucket.py checks that with generated unicode strings).
--       IMMUTABLE (stricter than STABLE): the result depends on the argument only.
--   * voice_agent_v2_enabled(tenant_id text) -> boolean: false when the master switch is off; else the
--       tenant's override when it has one; else bucket < rollout_percentage. NULL tenant -> false.
--       STABLE and SECURITY INVOKER: it reads the flag tables with the caller's rights, so a role needs
--       EXECUTE, SELECT on the two flag tables and a SELECT policy (docs/rollout.md, "Grants").
--       Without the grants it raises "permission denied"; with them but no policy, row-level security
--       hides the flags row and it answers false (v1), the safe side during a rollout.
--   Both pin search_path to pg_catalog (and pg_temp last) and name the flag tables schema-qualified:
--   with public on the path, a function or operator planted there with a more exact argument type
--   (e.g. an operator %(bigint, integer)) would win overload resolution and run as the caller
--   (tests/reliability/test_security_roles.py). EXECUTE is revoked from PUBLIC (grant it to the
--   application role).
-- Inputs: none. Run by revision 0002_v2_flags after tables.sql.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_agent_v2_bucket(tenant_id text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100)::integer
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_enabled(tenant_id text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    master_on  boolean;
    percentage integer;
    override   boolean;
BEGIN
    SELECT f.enabled, f.rollout_percentage INTO master_on, percentage FROM public.voice_agent_v2_flags AS f;
    IF NOT coalesce(master_on, false) OR tenant_id IS NULL THEN
        RETURN false;
    END IF;
    SELECT o.enabled INTO override FROM public.voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = $1;
    IF override IS NOT NULL THEN
        RETURN override;
    END IF;
    -- The bucket formula of voice_agent_v2_bucket, inlined on purpose: a nested call to a function with
    -- its own SET clause is re-planned on every call and made a 100,000-tenant count three times slower.
    -- tests/test_flags_bucket.py checks that the two agree.
    RETURN (('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100) < percentage;
END
$$;

COMMENT ON FUNCTION voice_agent_v2_bucket(text) IS
    'voice agent v2 rollout bucket 0..99 of a tenant id: md5-based, same as the Python client';
COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_bucket(text), voice_agent_v2_enabled(text) FROM PUBLIC;
