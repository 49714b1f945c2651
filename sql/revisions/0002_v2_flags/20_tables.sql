-- tables.sql — the feature-flag tables of the tenant-by-tenant v2 rollout (DESIGN.md sections 3 and 5).
--
-- What: creates
--   * voice_agent_v2_flags            — exactly one row: master switch, rollout percentage, who/when;
--                                       `step_started_at` is when the current step (percentage and
--                                       switch) began, which the rollout health gate's hold time reads;
--                                       `override_filter` is bookkeeping kept by a trigger (guards.sql): a
--                                       Bloom filter over every tenant that has (or had) an override, so
--                                       voice_agent_v2_enabled skips the override lookup for the others;
--   * voice_agent_v2_tenant_overrides — per-tenant true/false that beats the percentage;
--   * voice_agent_v2_flag_audit       — append-only history of every change (who, when, level, old, new, reason).
--   Invalid states are rejected by the database itself: a percentage outside 0..100 (CHECK), a second
--   flags row (boolean primary key that must be true). Deleting the row is refused by a trigger (guards.sql).
--   Row-level security is enabled on all three with no policy, so only the owner (and superusers) see
--   rows until an operator grants a role access on purpose (docs/rollout.md): Supabase exposes `public`
--   to `anon`/`authenticated` through its REST API and gives them table grants by default.
--   There is no foreign key to tenants on purpose: a data restore that deletes and re-inserts tenants
--   must not cascade into (or be blocked by) the rollout state; the tool checks the tenant instead.
-- Inputs: none. Run by revision 0002_v2_flags, before the triggers (guards.sql) and functions.
-- Re-run: not safe (plain CREATE TABLE); downgrade with `alembic downgrade 0001_v1_baseline`.

CREATE TABLE voice_agent_v2_flags (
    singleton          boolean PRIMARY KEY DEFAULT true
                       CONSTRAINT voice_agent_v2_flags_single_row CHECK (singleton),
    enabled            boolean NOT NULL DEFAULT false,
    -- squawk-ignore prefer-bigint-over-int -- a percentage, 0..100 by its CHECK: integer cannot overflow
    rollout_percentage integer NOT NULL DEFAULT 0
                       CONSTRAINT voice_agent_v2_flags_percentage_range CHECK (rollout_percentage BETWEEN 0 AND 100),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text NOT NULL DEFAULT session_user,
    step_started_at    timestamptz NOT NULL DEFAULT now(),
    -- 8,192 bits, three per overridden tenant (functions.sql, voice_agent_v2_override_bits). Bits are only
    -- ever added (guards.sql), so the filter never says "no override" for a tenant that has one; with
    -- 1,000 tenants ever overridden, a tenant without one still probes the overrides ~3 % of the time.
    -- 1 KB, STORAGE PLAIN: kept in the row uncompressed (no decompression per call). The size is chosen
    -- so that seven row versions fill a page to within PostgreSQL's pruning threshold (BLCKSZ / 10):
    -- updates of the flags row stay HOT and the table stays one page (2 KB rows left 1.4 KB free,
    -- never pruned, and the table grew a page every third update).
    override_filter    bit(8192) NOT NULL DEFAULT B'0'::bit(8192)
);

ALTER TABLE voice_agent_v2_flags ALTER COLUMN override_filter SET STORAGE PLAIN;

COMMENT ON TABLE voice_agent_v2_flags IS
    'voice agent v2 rollout: the single flags row (master switch and percentage); change it with voice-migration rollout/rollback';

CREATE TABLE voice_agent_v2_tenant_overrides (
    tenant_id  text PRIMARY KEY,
    enabled    boolean NOT NULL,
    reason     text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT session_user
);

COMMENT ON TABLE voice_agent_v2_tenant_overrides IS
    'voice agent v2 rollout: per-tenant override of the percentage (the master switch still wins)';

CREATE TABLE voice_agent_v2_flag_audit (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,
    db_user    text NOT NULL DEFAULT session_user,
    level      text NOT NULL CONSTRAINT voice_agent_v2_flag_audit_level CHECK (level IN ('global', 'tenant')),
    action     text NOT NULL,
    tenant_id  text,
    old_value  jsonb,
    new_value  jsonb,
    reason     text,
    CONSTRAINT voice_agent_v2_flag_audit_tenant_level CHECK ((level = 'tenant') = (tenant_id IS NOT NULL))
);

COMMENT ON TABLE voice_agent_v2_flag_audit IS
    'voice agent v2 rollout: append-only audit of every flag and override change (written by triggers)';

CREATE INDEX voice_agent_v2_flag_audit_tenant_idx ON voice_agent_v2_flag_audit (tenant_id, id)
    WHERE tenant_id IS NOT NULL;

ALTER TABLE voice_agent_v2_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE voice_agent_v2_tenant_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE voice_agent_v2_flag_audit ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON voice_agent_v2_flags, voice_agent_v2_tenant_overrides, voice_agent_v2_flag_audit FROM PUBLIC;
