-- restore_update.sql — put live rows back to their backed-up values (set-based, one statement).
--
-- What: for every live row the backup holds and that differs from it, sets the columns both
--       tables have to the backed-up values and the columns the backup lacks (v2 columns, when
--       the backup was taken at v1) to their default — the value they had before those columns
--       existed. Rows the backup does not hold are not touched.
-- Inputs: template placeholders filled by voice_migration/migration/restore.py: {live}, {backup}, {key},
--         {assignments} (col = b.col, ..., reset_col = DEFAULT), {live_cols} / {backup_cols},
--         {reset_dirty}. Run with the table's user triggers disabled (restore.py does), so the
--         dual-write triggers do not recompute what is being restored.
-- Re-run: safe — a second run finds nothing that differs.

UPDATE {live} AS l
SET {assignments}
FROM {backup} AS b
WHERE b.{key} = l.{key}
  AND (ROW({live_cols})::text IS DISTINCT FROM ROW({backup_cols})::text OR {reset_dirty})
