-- record_manifest.sql — add the manifest row of a backup whose data tables were just made.
--
-- What: one row in voice_migration.backups; size_bytes is measured here from the data tables.
-- Inputs: parameters backup_id, kind, alembic_revision, tenant_ids, the four counts,
--         checksums (jsonb text) and tables (text[] of qualified data-table names).
-- Re-run: no — the backup_id is the primary key.

INSERT INTO voice_migration.backups
    (backup_id, kind, alembic_revision, tenant_ids, tenants_count, configs_count, calls_count,
     metrics_count, checksums, size_bytes, note)
SELECT %(backup_id)s, %(kind)s, %(alembic_revision)s, %(tenant_ids)s, %(tenants_count)s,
       %(configs_count)s, %(calls_count)s, %(metrics_count)s, %(checksums)s::jsonb,
       (SELECT coalesce(sum(pg_total_relation_size(t::regclass)), 0)
        FROM unnest(%(tables)s::text[]) AS t),
       %(note)s
RETURNING created_at, size_bytes
