-- restore_delete_newer.sql — delete the live rows in a backup's scope that the backup does not hold.
--
-- What: `rollback --level data --delete-newer` only: the rows created after the backup (the rows
--       restore_newer.sql counts), for corruption that inserted rows. The restore has already copied
--       them into its safety backup (the state of the same scope before the restore), so they can be
--       brought back by restoring that. Run child tables first, with the table's triggers disabled.
-- Inputs: template placeholders {live}, {backup}, {key}, {scope_column} (quoted identifiers);
--         the scope comes from the transaction setting voice_migration.tenant_ids = 'a,b' (empty or unset = every tenant).
-- Re-run: safe — a second run deletes nothing.

DELETE FROM {live} AS l
WHERE (nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
       OR l.{scope_column} = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*')))
  AND NOT EXISTS (SELECT FROM {backup} AS b WHERE b.{key} = l.{key})
