-- backup_exists.sql — whether a backup id is taken: a manifest row or any of its data tables.
--
-- What: true when voice_migration.backups has %(backup_id)s, or a table named <backup_id>_tenants,
--       _configs, _calls or _metrics exists in schema voice_migration (an import never overwrites).
-- Inputs: parameter backup_id (the manifest must exist: the import creates it first, in its transaction).
-- Re-run: safe (read-only).

SELECT EXISTS (SELECT FROM voice_migration.backups WHERE backup_id = %(backup_id)s)
    OR EXISTS (
        SELECT FROM pg_class t
        JOIN pg_namespace s ON s.oid = t.relnamespace
        WHERE s.nspname = 'voice_migration'
          AND t.relname IN (%(backup_id)s || '_tenants', %(backup_id)s || '_configs',
                            %(backup_id)s || '_calls', %(backup_id)s || '_metrics'))
