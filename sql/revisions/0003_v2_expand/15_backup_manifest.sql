-- manifest.sql — the bookkeeping schema and the backups manifest (DESIGN.md section 3).
--
-- What: creates schema voice_migration and table voice_migration.backups when missing, and
--       keeps both unreadable by PUBLIC (voice_migration is never exposed through an API).
--       One manifest row per backup; the backup's data lives in tables of the same schema
--       named <backup_id>_tenants, _configs, _calls and _metrics (the last only when the
--       database had voice_agent_metrics).
-- Inputs: none. Run by `voice-migration backups create` / `migrate` when the manifest is
--         missing (a v1 database), and by revision 0003_v2_expand.
-- Re-run: safe (IF NOT EXISTS everywhere; REVOKE is idempotent).
--
-- Checksums: for each backed-up table, md5 over its rows' text form ROW(columns)::text,
-- ordered by the table's key and joined by newlines, computed with TimeZone=UTC and
-- DateStyle=ISO so that any session gets the same text ('empty' for no rows).

CREATE SCHEMA IF NOT EXISTS voice_migration;
REVOKE ALL ON SCHEMA voice_migration FROM PUBLIC;

CREATE TABLE IF NOT EXISTS voice_migration.backups (
    backup_id        text PRIMARY KEY
                     CHECK (backup_id ~ '^backup_[0-9]{8}_[0-9]{6}(_[0-9]{1,4})?$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    kind             text NOT NULL DEFAULT 'manual'
                     CHECK (kind IN ('manual', 'migrate', 'safety')),
    alembic_revision text,                 -- NULL: the database had no Alembic revision
    tenant_ids       text[],               -- NULL: every tenant
    tenants_count    bigint NOT NULL,
    configs_count    bigint NOT NULL,
    calls_count      bigint NOT NULL,
    metrics_count    bigint,               -- NULL: voice_agent_metrics did not exist
    checksums        jsonb NOT NULL,       -- {"tenants": md5, "configs": md5, ...}
    size_bytes       bigint NOT NULL,      -- pg_total_relation_size of the data tables
    note             text
);
REVOKE ALL ON voice_migration.backups FROM PUBLIC;
