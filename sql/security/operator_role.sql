-- operator_role.sql — a least-privilege group role for the people who run migrate, validate and rollout.
--
-- What: creates (once per cluster) the NOLOGIN role voice_migration_operator and gives it, in the
--       current database, exactly what these commands need at Alembic head:
--         * voice-migration migrate (the backfill phases, the backup it takes first, the verify step);
--         * voice-migration validate [--fix];
--         * voice-migration rollout ... and rollback --level tenant|partial|total; backups list|create.
--       It owns nothing in public, so it can drop, truncate or alter no table there, delete no v1 row,
--       and neither change nor forge the flag audit (written by a SECURITY DEFINER trigger as the owner).
--       Row-level security stays on: policies let this role (and only it) see and change the flag rows
--       and metrics; anon and other API roles still see nothing.
--       Not granted, on purpose (docs/reliability.md):
--         * the schema step — `alembic upgrade head` (DDL) runs as the owner, in the deploy pipeline;
--           `migrate` on a database below head fails for this role with "must be owner";
--         * rollback --level data — the restore disables the tables' triggers while it writes, which
--           only the owner may do: a data restore is a DBA action.
--       CREATE on schema voice_migration is granted: each backup is a set of new tables there. The
--       operator owns the backups it takes (and may drop those), never the bookkeeping tables.
-- Inputs: run with psql as the owner of the tables (the role that ran the revisions), connected to
--       the database, at Alembic head. Then give people the role:
--         CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE voice_migration_operator;
-- Re-run: safe (role created only when missing, GRANTs are idempotent, policies dropped and re-created).
--       Run it again after a downgrade and upgrade (dropped tables lose their grants and policies).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'voice_migration_operator') THEN
        CREATE ROLE voice_migration_operator NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO voice_migration_operator;
GRANT USAGE, CREATE ON SCHEMA voice_migration TO voice_migration_operator;

-- public: read everything the commands report on; write only what the backfill and the rollout write.
GRANT SELECT ON public.alembic_version, public.tenants, public.voice_agent_v2_flag_audit TO voice_migration_operator;
-- The held set (revision 0008): read by voice_agent_v2_enabled and the enable-tenant refusal; written only by
-- its SECURITY DEFINER triggers (the backfill's writes keep it) and by the owner's restore.
GRANT SELECT ON public.voice_agent_v2_held_tenants TO voice_migration_operator;
GRANT SELECT, UPDATE ON public.voice_agent_configs, public.voice_agent_calls, public.voice_agent_v2_flags
    TO voice_migration_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.voice_agent_metrics, public.voice_agent_v2_tenant_overrides
    TO voice_migration_operator;
GRANT EXECUTE ON FUNCTION public.voice_agent_v2_enabled(text), public.voice_agent_v2_bucket(text)
    TO voice_migration_operator;

-- voice_migration: read the catalogs, rules, manifest and archives; keep quarantine and progress;
-- record backups in the manifest.
GRANT SELECT ON ALL TABLES IN SCHEMA voice_migration TO voice_migration_operator;
GRANT INSERT, UPDATE, DELETE ON voice_migration.quarantine, voice_migration.backfill_progress
    TO voice_migration_operator;
GRANT INSERT ON voice_migration.backups TO voice_migration_operator;

-- Row-level security: no policy means no rows for anyone but the owner; this role gets its own.
DROP POLICY IF EXISTS voice_migration_operator ON public.alembic_version;
CREATE POLICY voice_migration_operator ON public.alembic_version
    FOR SELECT TO voice_migration_operator USING (true);
DROP POLICY IF EXISTS voice_migration_operator ON public.voice_agent_v2_flags;
CREATE POLICY voice_migration_operator ON public.voice_agent_v2_flags
    FOR ALL TO voice_migration_operator USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS voice_migration_operator ON public.voice_agent_v2_tenant_overrides;
CREATE POLICY voice_migration_operator ON public.voice_agent_v2_tenant_overrides
    FOR ALL TO voice_migration_operator USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS voice_migration_operator ON public.voice_agent_v2_flag_audit;
CREATE POLICY voice_migration_operator ON public.voice_agent_v2_flag_audit
    FOR SELECT TO voice_migration_operator USING (true);
DROP POLICY IF EXISTS voice_migration_operator ON public.voice_agent_v2_held_tenants;
CREATE POLICY voice_migration_operator ON public.voice_agent_v2_held_tenants
    FOR SELECT TO voice_migration_operator USING (true);
DROP POLICY IF EXISTS voice_migration_operator ON public.voice_agent_metrics;
CREATE POLICY voice_migration_operator ON public.voice_agent_metrics
    FOR ALL TO voice_migration_operator USING (true) WITH CHECK (true);
