-- restore_changed.sql — how many live rows a restore would change, and how many it would re-insert.
--
-- What: for one table, counts (1) live rows whose restored columns differ from the backup
--       (or whose columns missing from the backup are not NULL), (2) backed-up rows that no
--       longer exist and would be inserted again.
-- Inputs: template placeholders filled by voice_migration/migration/restore.py with quoted identifiers:
--         {live}, {backup}, {key}, {live_cols} / {backup_cols} (the columns both tables have, as
--         l.col / b.col lists) and {reset_dirty} (a boolean expression over l.*: a column the
--         backup lacks is set).
-- Re-run: safe (read-only).

SELECT
    (SELECT count(*)
     FROM {live} AS l JOIN {backup} AS b ON b.{key} = l.{key}
     WHERE ROW({live_cols})::text IS DISTINCT FROM ROW({backup_cols})::text OR {reset_dirty}),
    (SELECT count(*)
     FROM {backup} AS b
     WHERE NOT EXISTS (SELECT FROM {live} AS l WHERE l.{key} = b.{key}))
