-- functions.sql — the rollout decision in SQL (DESIGN.md section 5).
--
-- What: installs
--   * voice_agent_v2_bucket(tenant_id text) -> int: the tenant's bucket 0..99,
--       ('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100. md5 reads the text's bytes in the
--       database encoding, so on a UTF8 database it equals Python's
--       int(hashlib.md5(tenant_id.encode()).hexdigest()[:8], 16) % 100 for every string
--       (tests/test_flags_database.py checks that with generated unicode strings).
--       IMMUTABLE (stricter than STABLE): the result depends on the argument only.
--   * voice_agent_v2_override_bits(tenant_id text) -> bit(8192): the tenant's three bits in the flags row's
--       override filter, at positions taken from md5 hex digits 9..20 (digits 1..8 are the bucket):
--       p = ('x' || substr(md5(tenant_id), 9, 12))::bit(48)::bigint, bits (p >> 26) & 8191,
--       (p >> 13) & 8191 and p & 8191. IMMUTABLE. guards.sql ORs them into the filter.
--   * voice_agent_v2_enabled(tenant_id text) -> boolean: false when the master switch is off; else the
--       tenant's override when it has one; else bucket < rollout_percentage. NULL tenant -> false.
--       It reads the flags row (switch, percentage, override filter) in one query and looks the tenant up
--       in voice_agent_v2_tenant_overrides only when all three of its filter bits are set: a tenant that
--       never had an override costs one query, not two (100,000 tenants, 1,000 overrides: 0.51 s ->
--       0.37 s, bench/flags_bench.py).
--       The filter can only say "maybe": a set bit without an override costs a lookup, never a wrong answer.
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

CREATE OR REPLACE FUNCTION voice_agent_v2_override_bits(tenant_id text) RETURNS bit(8192)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (B'1'::bit(8192) >> ((p >> 26) & 8191)::integer)
         | (B'1'::bit(8192) >> ((p >> 13) & 8191)::integer)
         | (B'1'::bit(8192) >> (p & 8191)::integer)
      FROM (SELECT ('x' || substr(md5(tenant_id), 9, 12))::bit(48)::bigint AS p) AS probe
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_enabled(tenant_id text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    master_on  boolean;
    percentage integer;
    filter     bit varying;
    digest     text;
    probe      bigint;
    override   boolean;
BEGIN
    IF tenant_id IS NULL THEN
        RETURN false;
    END IF;
    SELECT f.enabled, f.rollout_percentage, f.override_filter INTO master_on, percentage, filter
      FROM public.voice_agent_v2_flags AS f;
    IF NOT coalesce(master_on, false) THEN
        RETURN false;
    END IF;
    digest := md5(tenant_id);
    -- The filter positions of voice_agent_v2_override_bits, inlined like the bucket below
    -- (tests/test_flags_database.py checks that overrides are always honoured).
    probe := ('x' || substr(digest, 9, 12))::bit(48)::bigint;
    IF get_bit(filter, ((probe >> 26) & 8191)::integer) = 1
       AND get_bit(filter, ((probe >> 13) & 8191)::integer) = 1
       AND get_bit(filter, (probe & 8191)::integer) = 1 THEN
        SELECT o.enabled INTO override FROM public.voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = $1;
        IF override IS NOT NULL THEN
            RETURN override;
        END IF;
    END IF;
    -- The bucket formula of voice_agent_v2_bucket, inlined on purpose: a nested call to a function with
    -- its own SET clause is re-planned on every call and made a 100,000-tenant count three times slower.
    -- tests/test_flags_database.py checks that the two agree.
    RETURN (('x' || substr(digest, 1, 8))::bit(32)::bigint % 100) < percentage;
END
$$;

COMMENT ON FUNCTION voice_agent_v2_bucket(text) IS
    'voice agent v2 rollout bucket 0..99 of a tenant id: md5-based, same as the Python client';
COMMENT ON FUNCTION voice_agent_v2_override_bits(text) IS
    'voice agent v2 rollout: the three bits of a tenant id in voice_agent_v2_flags.override_filter';
COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_bucket(text), voice_agent_v2_override_bits(text), voice_agent_v2_enabled(text)
    FROM PUBLIC;
