-- monitoring_role.sql — a read-only group role for dashboards: Grafana, Metabase, Supabase Studio, psql.
--
-- What: creates (once per cluster) the NOLOGIN role voice_migration_monitor and lets it read, in the
--       current database, the two monitoring objects of revision 0010_monitoring and nothing else:
--         SELECT * FROM voice_migration.migration_progress;            -- a view (owner's rights)
--         SELECT * FROM voice_migration.rollout_cohorts('24 hours');   -- SECURITY DEFINER, aggregates
--       Both return aggregates only, so the role needs no grant on the tenant tables: it cannot read a
--       config, a call or a quarantined row (tests/test_monitoring.py).
-- Inputs: run with psql as the owner of the tables (the role that ran the revisions), at a revision
--       that includes 0010_monitoring. Then give the dashboard its login:
--         CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE voice_migration_monitor;
-- Re-run: safe (role created only when missing, GRANTs are idempotent). Run it again after a downgrade
--       below 0010 and an upgrade (dropped objects lose their grants).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'voice_migration_monitor') THEN
        CREATE ROLE voice_migration_monitor NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA voice_migration TO voice_migration_monitor;
GRANT SELECT ON voice_migration.migration_progress TO voice_migration_monitor;
GRANT EXECUTE ON FUNCTION voice_migration.rollout_cohorts(interval, timestamptz) TO voice_migration_monitor;
