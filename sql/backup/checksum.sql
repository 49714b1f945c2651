-- checksum.sql — row count and checksum of {table}'s rows (only those whose key is in another table, when asked).
--       The project's one table checksum: backup, restore, demo, tests and bench all run this file
--       (voice_migration.migration.backup.checksum).
--
-- What: count(*) and a checksum: the sum, as numeric, of the first 64 bits of md5(ROW({columns})::text)
--       of every row ('empty' for no rows). Each row's text includes its key, so the sum needs no order:
--       no sort, and no single string of every row (such a string hits PostgreSQL's 1 GB limit,
--       "Cannot enlarge string buffer", beyond about 6 million calls). {key_filter} is empty for the
--       whole table (the manifest checksum of a backup copy), or
--       `WHERE EXISTS (SELECT FROM <backup table> AS k WHERE k.<key> = t.<key>)` for the live rows that
--       a backup holds (the verification after a restore). The whole-table form has no filter at all:
--       a table semi-joined with itself cost 1.6 s of 3.8 s on 1,000,000 calls.
--       The rows placeholder is empty, or a WITH clause defining the CTE the table placeholder names: the backup's copy passes
--       `WITH copied AS (INSERT INTO <backup> SELECT ... RETURNING *)`, so the checksum of the copy is
--       computed from the rows as they are written, in the pass that writes them, instead of reading the
--       copy again (the same rows: RETURNING yields the stored tuples).
--       The columns placeholder is a column list, or `t.*` for every column.
-- Inputs: template placeholders filled with quoted identifiers by voice_migration/migration/backup.py.
--         Run with TimeZone=UTC and DateStyle=ISO (the caller sets them) so the text is stable.
-- Re-run: safe (read-only).

{rows}
SELECT count(*),
       coalesce(sum(('x' || left(md5(ROW({columns})::text), 16))::bit(64)::bigint)::text, 'empty')
FROM {table} AS t
{key_filter}
