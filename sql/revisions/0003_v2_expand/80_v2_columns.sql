-- 30_v2_columns.sql — the v2 columns, the metrics table and the v2 constraints (DESIGN.md section 3).
--
-- What: adds the v2 columns to voice_agent_configs and voice_agent_calls (nullable, no default: a
--       catalog-only change, no table rewrite), creates voice_agent_metrics with row-level security,
--       and adds every v2 CHECK constraint as NOT VALID: existing rows are not scanned now, new
--       writes are checked at once; 0004_v2_backfill validates them after the backfill.
--       Catalog membership (capabilities, outcome codes) is enforced by the catalog-guard
--       triggers of sql/expand/40_triggers.sql, set-based per statement.
-- Inputs: the v1 tables; voice_migration.sorted_distinct (sql/transform/10_normalise.sql).
-- Re-run: no (plain ADD COLUMN / CREATE TABLE); the downgrade removes all of it.
-- Locks: one short ACCESS EXCLUSIVE per table (bounded by lock_timeout); nothing is rewritten.

ALTER TABLE voice_agent_configs
    ADD COLUMN assistant_type text,
    ADD COLUMN voice_config   jsonb,
    ADD COLUMN personality    jsonb,
    ADD COLUMN capabilities   text[],
    ADD COLUMN schema_version text,
    ADD COLUMN migrated_at    timestamptz,
    ADD COLUMN migrated_from  text,
    ADD CONSTRAINT voice_agent_configs_assistant_type_check
        CHECK (assistant_type IN ('inbound', 'outbound', 'hybrid')) NOT VALID,
    -- CASE fixes the evaluation order: a non-number speed is a violation, not a cast error.
    ADD CONSTRAINT voice_agent_configs_voice_config_check CHECK (
        jsonb_typeof(voice_config) = 'object'
        AND jsonb_typeof(voice_config -> 'voice_id') = 'string'
        AND jsonb_typeof(voice_config -> 'language') = 'string'
        AND CASE WHEN voice_config -> 'speed' IS NULL THEN true
                 WHEN jsonb_typeof(voice_config -> 'speed') = 'number'
                      THEN (voice_config ->> 'speed')::numeric BETWEEN 0.5 AND 2.0
                 ELSE false END
        AND CASE WHEN voice_config -> 'pitch' IS NULL THEN true
                 WHEN jsonb_typeof(voice_config -> 'pitch') = 'number'
                      THEN (voice_config ->> 'pitch')::numeric BETWEEN 0.5 AND 2.0
                 ELSE false END) NOT VALID,
    ADD CONSTRAINT voice_agent_configs_personality_check CHECK (
        jsonb_typeof(personality) = 'object'
        AND jsonb_typeof(personality -> 'base_prompt') = 'string'
        AND coalesce(jsonb_typeof(personality -> 'special_instructions'), 'array') = 'array'
        AND coalesce(jsonb_typeof(personality -> 'greeting_message'), 'string') = 'string'
        AND coalesce(jsonb_typeof(personality -> 'farewell_message'), 'string') = 'string') NOT VALID,
    ADD CONSTRAINT voice_agent_configs_capabilities_check
        CHECK (capabilities = voice_migration.sorted_distinct(capabilities)) NOT VALID,
    ADD CONSTRAINT voice_agent_configs_schema_version_check CHECK (schema_version = 'v2') NOT VALID,
    ADD CONSTRAINT voice_agent_configs_migrated_from_check CHECK (migrated_from = 'v1') NOT VALID,
    -- A migrated config is complete; a quarantined one keeps every v2 column NULL (INTERNALS.md).
    ADD CONSTRAINT voice_agent_configs_v2_complete_check CHECK (
        schema_version IS NULL
        OR (assistant_type IS NOT NULL AND voice_config IS NOT NULL AND personality IS NOT NULL
            AND capabilities IS NOT NULL)) NOT VALID;

ALTER TABLE voice_agent_calls
    ADD COLUMN outcome_code   text,
    ADD COLUMN outcome_source text,
    ADD CONSTRAINT voice_agent_calls_outcome_source_check
        CHECK (outcome_source IN ('manual', 'inferred')) NOT VALID,
    ADD CONSTRAINT voice_agent_calls_outcome_pair_check
        CHECK ((outcome_code IS NULL) = (outcome_source IS NULL)) NOT VALID;

-- One row per config that has calls. config_id is unique (DESIGN.md); tenant_id rides along on
-- every row so that queries and a future Citus distribution can route by tenant.
CREATE TABLE voice_agent_metrics (
    tenant_id            text NOT NULL,
    config_id            text NOT NULL,
    total_calls          bigint NOT NULL CHECK (total_calls > 0),
    avg_duration_seconds numeric,
    p50_latency_ms       double precision,
    p95_latency_ms       double precision,
    p99_latency_ms       double precision,
    outcome_counts       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(outcome_counts) = 'object'),
    error_rate           numeric NOT NULL CHECK (error_rate BETWEEN 0 AND 1),
    first_call_at        timestamptz,
    last_call_at         timestamptz,
    computed_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT voice_agent_metrics_config_id_key UNIQUE (config_id)
);
CREATE INDEX voice_agent_metrics_tenant_idx ON voice_agent_metrics (tenant_id, config_id);
-- Supabase serves public through its REST API: no policy = no rows for API roles until the
-- platform adds its own tenant policy; the owner (migrations, backfill) is not affected.
ALTER TABLE voice_agent_metrics ENABLE ROW LEVEL SECURITY;
