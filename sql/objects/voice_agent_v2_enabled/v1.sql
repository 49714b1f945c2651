-- voice_agent_v2_enabled v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_enabled, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/30_functions.objects, whose comments explain the design).
--       Its COMMENT and REVOKE are 0002's own SQL (35_function_comments_and_grants.sql); CREATE OR REPLACE
--       keeps them. A version that drops and re-creates the function must set them again.
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
