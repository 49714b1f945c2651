-- voice_agent_v2_enabled v2 — the rollout decision, with held tenants (issue #15, DESIGN.md section 5).
--
-- What: voice_agent_v2_enabled(tenant_id text) -> boolean:
--     master switch off -> false; else the tenant's override when it has one; else false when the tenant
--     is held (a row in public.voice_agent_v2_held_tenants: it has a config not in v2 shape, which v2
--     cannot read); else bucket < rollout_percentage. NULL tenant -> false.
--   An override beats the hold on purpose: `rollout enable-tenant --force` is the audited way to send a
--   held tenant to v2; without --force the CLI refuses it (voice_migration.flags).
--   The result is the same as checking the hold before the bucket; the order is for speed.
--   Cost: the override lookup stays behind the override filter as in v1; the hold is one EXISTS probe of
--   the held set's primary key, asked only for tenants whose bucket is below the percentage (a tenant the
--   bucket keeps on v1 costs what it cost in v1). bench/held_bench.py measures it against v1 side by side
--   (docs/rollout.md has the numbers: within 1.2x at 37 %, more at 100 %, where every tenant probes).
--   STABLE, SECURITY INVOKER, search_path pinned, EXECUTE revoked from PUBLIC, as v1 (see
--   sql/flags/functions.sql for why). An application role needs SELECT on the held set and a SELECT
--   policy too (docs/rollout.md, "Grants"): without the policy row-level security hides the held rows.
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
    digest     text;
    probe      bigint;
    override   boolean;
BEGIN
    IF tenant_id IS NULL THEN
        RETURN false;
    END IF;
    SELECT f.enabled, f.rollout_percentage, f.override_filter
      INTO master_on, percentage, filter
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
    -- Held -> v1. Asked last, so only the tenants the bucket would send to v2 pay the probe.
    RETURN NOT EXISTS (SELECT FROM public.voice_agent_v2_held_tenants AS h WHERE h.tenant_id = $1);
END
$$;

COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then held -> false, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_enabled(text) FROM PUBLIC;
