-- refresh_held_filter v1 — the held set's filter in the flags row, so voice_agent_v2_enabled seldom probes it.
--
-- What: voice_migration.refresh_held_filter() -> void sets voice_agent_v2_flags.held_filter, a Bloom filter
--   of public.voice_agent_v2_held_tenants: 4096 bits, three per held tenant at positions taken from md5
--   hex digits 21..32 of its id (digits 1..8 are the bucket, 9..20 the override filter):
--     p = ('x' || substr(md5(tenant_id), 21, 12))::bit(48)::bigint; bits (p >> 24) & 4095,
--     (p >> 12) & 4095 and p & 4095.
--   voice_agent_v2_enabled probes the held set only for a tenant whose three bits are all set: a held
--   tenant always (no false negative), any other one with a probability of about (share of bits set)^3
--   (1,000 held tenants: about 15 %; 100: 0.05 %; none: never). Unlike the override filter it is exact,
--   recomputed from the set (bits are cleared when tenants leave); above 5,000 held tenants (a database
--   the backfill has not reached yet, where every tenant with configs is held) it is all ones instead of
--   a recount, since a filter that full says "maybe" for everyone anyway: cost one bounded count.
--   The UPDATE happens only when the filter changes; it touches the flags row, so it waits for (and
--   briefly holds) the row lock flag changes take; voice_agent_v2_only_filter_grew v2 makes the stamp and
--   audit triggers treat it as bookkeeping.
--   Called by voice_migration.sync_held_tenants (statement triggers on voice_agent_configs) when a tenant
--   enters or leaves the set, and by voice_migration.refresh_held_tenants.
-- Inputs: none.
-- Re-run: safe (CREATE OR REPLACE; the function itself is idempotent).

CREATE OR REPLACE FUNCTION voice_migration.refresh_held_filter() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_held   integer;
    v_filter bit varying;
BEGIN
    SELECT count(*) INTO v_held FROM (SELECT FROM public.voice_agent_v2_held_tenants LIMIT 5001) AS bounded;
    IF v_held > 5000 THEN
        v_filter := repeat('1', 4096)::bit(4096);
    ELSE
        SELECT coalesce(bit_or(set_bit(set_bit(set_bit(repeat('0', 4096)::bit(4096),
                                                        ((b.p >> 24) & 4095)::integer, 1),
                                                ((b.p >> 12) & 4095)::integer, 1),
                                        (b.p & 4095)::integer, 1)),
                        repeat('0', 4096)::bit(4096))
          INTO v_filter
          FROM (SELECT ('x' || substr(md5(h.tenant_id), 21, 12))::bit(48)::bigint AS p
                  FROM public.voice_agent_v2_held_tenants AS h) AS b;
    END IF;
    UPDATE public.voice_agent_v2_flags AS f SET held_filter = v_filter WHERE f.held_filter IS DISTINCT FROM v_filter;
END
$$;

COMMENT ON FUNCTION voice_migration.refresh_held_filter() IS
    'recompute voice_agent_v2_flags.held_filter (Bloom filter of public.voice_agent_v2_held_tenants) when it changed';
