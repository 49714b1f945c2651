-- list.sql — every backup in the manifest, newest first.
--
-- What: the manifest columns an operator needs to choose a backup, plus its age.
-- Inputs: none (the manifest must exist).
-- Re-run: safe (read-only).

SELECT backup_id, created_at, kind, alembic_revision, tenant_ids, tenants_count, configs_count,
       calls_count, metrics_count, checksums::text, size_bytes, now() - created_at AS age
FROM voice_migration.backups
ORDER BY created_at DESC, backup_id DESC
