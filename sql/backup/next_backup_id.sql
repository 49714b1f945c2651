-- next_backup_id.sql — the first free backup id for the current time.
--
-- What: backup_YYYYMMDD_HHMMSS from now() in UTC; when that id (or one of its data tables)
--       already exists, the same with _2, _3, ... — an existing backup is never overwritten.
-- Inputs: none (the manifest must exist). Returns one row, one column.
-- Re-run: safe (read-only).

SELECT candidate
FROM (
    SELECT n,
           'backup_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MISS')
               || CASE WHEN n = 1 THEN '' ELSE '_' || n END AS candidate
    FROM generate_series(1, 9999) AS n
) AS c
WHERE NOT EXISTS (SELECT FROM voice_migration.backups b WHERE b.backup_id = c.candidate)
  AND NOT EXISTS (
      SELECT FROM pg_class t
      JOIN pg_namespace s ON s.oid = t.relnamespace
      WHERE s.nspname = 'voice_migration'
        AND t.relname IN (c.candidate || '_tenants', c.candidate || '_configs',
                          c.candidate || '_calls', c.candidate || '_metrics'))
ORDER BY n
LIMIT 1
