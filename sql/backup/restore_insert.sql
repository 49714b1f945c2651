-- restore_insert.sql — insert again the backed-up rows that were deleted since the backup.
--
-- What: every backup row whose key is not in the live table is inserted with the columns both
--       tables have; the others get their defaults.
-- Inputs: template placeholders {live}, {backup}, {key}, {columns} (bare names),
--         {backup_cols} (b.col list), filled by voice_migration/migration/restore.py.
-- Re-run: safe — a second run inserts nothing.

INSERT INTO {live} ({columns})
SELECT {backup_cols}
FROM {backup} AS b
WHERE NOT EXISTS (SELECT FROM {live} AS l WHERE l.{key} = b.{key})
