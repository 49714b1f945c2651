-- drop_backup.sql — remove one backup: its manifest row (its data tables are dropped by the caller).
--
-- What: deletes the manifest row of %(backup_id)s and returns its size, to report the space freed.
-- Inputs: parameter backup_id. voice_migration/migration/backup.py drops the data tables in the same
--         transaction (DROP TABLE IF EXISTS on the four names).
-- Re-run: safe — a second run deletes nothing.

DELETE FROM voice_migration.backups
WHERE backup_id = %(backup_id)s
RETURNING size_bytes
