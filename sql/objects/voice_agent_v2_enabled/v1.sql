-- voice_agent_v2_enabled v1 — the rollout decision as released in 0.1 (an exact copy of its definition in
-- sql/flags/functions.sql, which revision 0002_v2_flags runs).
--
-- What: voice_agent_v2_enabled(tenant_id text) -> boolean: false when the master switch is off; else the
--   tenant's override when it has one; else bucket < rollout_percentage. It does not know about held
--   tenants (v2.sql does). Installed by the downgrade of 0008_quarantine_hold.
-- Inputs: none.
-- Re-run: safe (CREATE OR REPLACE).

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

COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_enabled(text) FROM PUBLIC;
