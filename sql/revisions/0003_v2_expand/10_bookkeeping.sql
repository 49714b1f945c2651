-- 10_bookkeeping.sql — the voice_migration schema: quarantine, backfill progress and the two catalogs.
--
-- What: creates the bookkeeping schema `voice_migration` (not readable by PUBLIC), the quarantine
--       table (INTERNALS.md), the resume state of the backfill and the capability and outcome
--       catalogs. Their content is loaded by sql/catalogs/*.sql; rule tables: 20_rule_tables.sql.
-- Inputs: none. Run by revision 0003_v2_expand.
-- Re-run: safe (IF NOT EXISTS everywhere): `backups create` may already have made the schema, and
--         a downgrade keeps it (backups and downgrade archives live there).

CREATE SCHEMA IF NOT EXISTS voice_migration;
-- Supabase exposes schemas through PostgREST; bookkeeping holds full copies of rows, so nobody but
-- the owner (and roles granted explicitly) may even look up names in it.
REVOKE ALL ON SCHEMA voice_migration FROM PUBLIC;

-- Rows that cannot be migrated as they are; the data row itself is never deleted.
CREATE TABLE IF NOT EXISTS voice_migration.quarantine (
    entity         text NOT NULL CHECK (entity IN ('config', 'call')),
    entity_id      text NOT NULL,
    tenant_id      text,
    reason         text NOT NULL,
    detail         text,
    original_row   jsonb NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entity, entity_id, reason)
);

-- Where each backfill phase stands, per tenant scope, so any process can resume (GitLab style).
-- scope is '*' (all tenants) or the sorted, distinct tenant ids joined by ','.
CREATE TABLE IF NOT EXISTS voice_migration.backfill_progress (
    phase        text NOT NULL CHECK (phase IN ('configs', 'calls', 'metrics')),
    scope        text NOT NULL,
    last_key     text,                       -- NULL: start from the first key
    rows_done    bigint NOT NULL DEFAULT 0,  -- keys walked in the current pass
    rows_changed bigint NOT NULL DEFAULT 0,  -- rows whose v2 values were written in the current pass
    quarantined  bigint NOT NULL DEFAULT 0,  -- rows of the walked batches that are in quarantine
    batches      bigint NOT NULL DEFAULT 0,  -- bigint: batch size 1 over 2^31 rows must not overflow
    started_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,                -- set when the pass reached the last key
    PRIMARY KEY (phase, scope)
);

CREATE TABLE IF NOT EXISTS voice_migration.capability_catalog (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    description text
);

CREATE TABLE IF NOT EXISTS voice_migration.outcome_catalog (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    description text
);
