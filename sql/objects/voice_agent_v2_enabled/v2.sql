-- voice_agent_v2_enabled v2 — the rollout decision, with held tenants (issue #15, DESIGN.md section 5).
--
-- What: voice_agent_v2_enabled(tenant_id text) -> boolean: master switch off -> false; else the
--   tenant's override when it has one; else false when the tenant is held (a row in
--   public.voice_agent_v2_held_tenants: a config not in v2 shape, which v2 cannot read); else
--   bucket < rollout_percentage. NULL tenant -> false. An override beats the hold on purpose:
--   `rollout enable-tenant --force` is the audited way to send a held tenant to v2.
--   Cost: one query reads the flags row with its override filter and its held filter (held_filter, a
--   Bloom filter of the held set, objects/refresh_held_filter); the held set is probed (one primary-key
--   EXISTS) only when the bucket says v2 AND the tenant's three held-filter bits are set: every held
--   tenant and few others (none held: never; 1,000 held: ~15 %). NULL filter: always probe.
--   bench/held_bench.py vs v1: docs/benchmarks.md, "Quarantine hold".
--   STABLE, SECURITY INVOKER, search_path pinned, EXECUTE revoked from PUBLIC, as v1. An application
--   role needs SELECT on the held set and a SELECT policy (docs/rollout.md, "Grants"): without the grant
--   it gets "permission denied" for tenants whose bits are set; without the policy RLS hides the rows.
-- Inputs: none. Run by revision 0008_quarantine_hold (v1.sql restores the 0.1 definition on downgrade).
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_agent_v2_enabled(tenant_id text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    master_on  boolean;
    percentage integer;
    filter     bit varying;
    held       bit varying;
    digest     text;
    probe      bigint;
    override   boolean;
BEGIN
    IF tenant_id IS NULL THEN
        RETURN false;
    END IF;
    SELECT f.enabled, f.rollout_percentage, f.override_filter, f.held_filter
      INTO master_on, percentage, filter, held
      FROM public.voice_agent_v2_flags AS f;
    IF NOT coalesce(master_on, false) THEN
        RETURN false;
    END IF;
    digest := md5(tenant_id);
    -- The filter positions of voice_agent_v2_override_bits, inlined (tests/test_flags_database.py checks
    -- that overrides are always honoured).
    probe := ('x' || substr(digest, 9, 12))::bit(48)::bigint;
    IF get_bit(filter, ((probe >> 26) & 8191)::integer) = 1
       AND get_bit(filter, ((probe >> 13) & 8191)::integer) = 1
       AND get_bit(filter, (probe & 8191)::integer) = 1 THEN
        SELECT o.enabled INTO override FROM public.voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = $1;
        IF override IS NOT NULL THEN
            RETURN override;
        END IF;
    END IF;
    -- The bucket formula of voice_agent_v2_bucket, inlined on purpose (a nested call to a function with
    -- its own SET clause is re-planned on every call); tests/test_flags_database.py checks they agree.
    IF (('x' || substr(digest, 1, 8))::bit(32)::bigint % 100) >= percentage THEN
        RETURN false;
    END IF;
    -- Held -> v1. Only tenants the bucket would send to v2 get here; the held filter (positions of
    -- voice_migration.refresh_held_filter) rules most of the others out without a probe.
    probe := ('x' || substr(digest, 21, 12))::bit(48)::bigint;
    IF get_bit(held, ((probe >> 24) & 4095)::integer) = 0
       OR get_bit(held, ((probe >> 12) & 4095)::integer) = 0
       OR get_bit(held, (probe & 4095)::integer) = 0 THEN
        RETURN true;  -- a bit is clear: certainly not held (a NULL filter gives NULL here: probe)
    END IF;
    RETURN NOT EXISTS (SELECT FROM public.voice_agent_v2_held_tenants AS h WHERE h.tenant_id = $1);
END
$$;

COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then held -> false, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_enabled(text) FROM PUBLIC;
