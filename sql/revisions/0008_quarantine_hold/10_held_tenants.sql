-- 10_held_tenants.sql — the maintained set of tenants the rollout must keep on v1 (issue #15, DESIGN.md section 5).
--
-- What: creates public.voice_agent_v2_held_tenants(tenant_id, configs, held_since): one row per tenant that
--   has at least one config not in v2 shape (schema_version IS DISTINCT FROM 'v2': quarantined, or not
--   migrated yet), `configs` = how many. voice_agent_v2_enabled (objects/voice_agent_v2_enabled/v2.sql)
--   answers false for these tenants, and the cached check loads the set with the flags
--   (sql/flags/snapshot.sql). The rows are kept by the triggers of
--   objects sync_held_tenants and voice_agent_configs_held_*; nobody writes them by hand.
--   Row-level security on, no policy, like the flag tables: an application role that calls
--   voice_agent_v2_enabled needs SELECT on it and a SELECT policy (docs/rollout.md, "Grants").
--   Also adds voice_agent_v2_flags.held_filter (bit varying, NULL until 30_fill.sql): a Bloom filter of
--   the set, read with the flags row in voice_agent_v2_enabled's one query, so that a tenant the filter
--   rules out costs no probe of the set (objects/refresh_held_filter/v1.sql keeps it; NULL = probe always).
--   Nullable, no default: a catalog-only change (a brief ACCESS EXCLUSIVE lock on the one-row table,
--   under lock_timeout).
-- Inputs: none. Run by revision 0008_quarantine_hold.
-- Re-run: not safe (CREATE TABLE, ADD COLUMN); the downgrade of 0008 drops both (derived data).

CREATE TABLE public.voice_agent_v2_held_tenants (
    tenant_id  text PRIMARY KEY,
    -- squawk-ignore prefer-bigint-over-int -- the number of configs of one tenant
    configs    integer NOT NULL,
    held_since timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.voice_agent_v2_held_tenants IS
    'voice agent v2 rollout: tenants with a config not in v2 shape (kept on v1); maintained by triggers on voice_agent_configs';

ALTER TABLE public.voice_agent_v2_held_tenants ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.voice_agent_v2_held_tenants FROM PUBLIC;

ALTER TABLE public.voice_agent_v2_flags ADD COLUMN held_filter bit varying;

COMMENT ON COLUMN public.voice_agent_v2_flags.held_filter IS
    'Bloom filter (4096 bits) of voice_agent_v2_held_tenants, kept by voice_migration.refresh_held_filter(); NULL = unknown';
