-- restore_newer.sql — live rows in a backup's scope that the backup does not hold.
--
-- What: the rows created after the backup (in its tenant scope); a restore keeps them and
--       reports them. Returns their count and up to 20 of their keys, as a sample to show.
-- Inputs: template placeholders {live}, {backup}, {key}, {scope_column} (quoted identifiers);
--         the scope comes from the transaction setting voice_migration.tenant_ids = 'a,b' (empty or unset = every tenant).
-- Re-run: safe (read-only).

SELECT count(*),
       (array_agg(l.{key}::text ORDER BY l.{key}))[1:20]
FROM {live} AS l
WHERE (nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
       OR l.{scope_column} = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*')))
  AND NOT EXISTS (SELECT FROM {backup} AS b WHERE b.{key} = l.{key})
