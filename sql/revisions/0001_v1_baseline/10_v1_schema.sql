-- v1_schema.sql — the v1 baseline tables, exactly as DESIGN.md section 3.
--
-- What: creates tenants, voice_agent_configs and voice_agent_calls in their v1 shape.
--       The v1 schema is deliberately lax (no foreign keys, nullable columns): it
--       describes the data that exists, messy as it is.
-- Inputs: none. Run by revision 0001_v1_baseline.
-- Re-run: not safe (plain CREATE TABLE). An existing v1 database is adopted with
--         `alembic stamp 0001_v1_baseline` instead of running this.

-- Plain CREATE TABLE on purpose (squawk's prefer-robust-stmts): this revision only runs on an empty
-- database, in one transaction that a failure rolls back whole, so there is never a half-done run to
-- repeat; IF NOT EXISTS would instead silently accept a same-named table of another shape (an existing
-- v1 database is adopted with `alembic stamp 0001_v1_baseline`, not by running this).
-- squawk-ignore prefer-robust-stmts -- see above
CREATE TABLE tenants (
    id         text PRIMARY KEY,
    name       text,
    created_at timestamptz
);

-- squawk-ignore prefer-robust-stmts -- see above
CREATE TABLE voice_agent_configs (
    id         text PRIMARY KEY,
    tenant_id  text,
    name       text,
    prompt     text,
    voice_id   text,
    language   text,
    enabled    boolean,
    created_at timestamptz,
    updated_at timestamptz
);

-- squawk-ignore prefer-robust-stmts -- see above
CREATE TABLE voice_agent_calls (
    id               text PRIMARY KEY,
    tenant_id        text,
    config_id        text,
    direction        text,
    status           text,
    ended_reason     text,
    duration_seconds numeric,
    latency_ms       numeric,
    outcome          text,
    transcript       text,
    version          text DEFAULT 'v1',
    created_at       timestamptz
);
