-- import_manifest.sql — the manifest row of an imported backup, written after its tables were verified.
--
-- What: one row in voice_migration.backups with the values of the export's manifest.json: the original
--       id, creation time, kind, revision, scope, counts and checksums (a restore checks the tables
--       against these again); size_bytes is measured here from the imported tables.
-- Inputs: parameters backup_id, created_at, kind, alembic_revision, tenant_ids, the four counts,
--         checksums (jsonb text), tables (text[] of qualified data-table names) and note.
-- Re-run: no — the backup_id is the primary key.

INSERT INTO voice_migration.backups
    (backup_id, created_at, kind, alembic_revision, tenant_ids, tenants_count, configs_count, calls_count,
     metrics_count, checksums, size_bytes, note)
SELECT %(backup_id)s, %(created_at)s, %(kind)s, %(alembic_revision)s, %(tenant_ids)s, %(tenants_count)s,
       %(configs_count)s, %(calls_count)s, %(metrics_count)s, %(checksums)s::jsonb,
       (SELECT coalesce(sum(pg_total_relation_size(t::regclass)), 0)
        FROM unnest(%(tables)s::text[]) AS t),
       %(note)s
