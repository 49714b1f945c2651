-- checksum.sql — row count and checksum of {table}'s rows whose {key} is also in {keys_from}.
--
-- What: count(*) and a checksum: the sum, as numeric, of the first 64 bits of md5(ROW({columns})::text)
--       of every row ('empty' for no rows). Each row's text includes its key, so the sum needs no order:
--       no sort, and no single string of every row (such a string hits PostgreSQL's 1 GB limit,
--       "Cannot enlarge string buffer", beyond about 6 million calls). With {keys_from} = {table} it covers the whole table (the
--       manifest checksum); with {keys_from} = a backup table it covers the live rows that
--       the backup holds (the verification after a restore).
-- Inputs: template placeholders filled with quoted identifiers by voice_migration/backup.py.
--         Run with TimeZone=UTC and DateStyle=ISO (the caller sets them) so the text is stable.
-- Re-run: safe (read-only).

SELECT count(*),
       coalesce(sum(('x' || left(md5(ROW({columns})::text), 16))::bit(64)::bigint)::text, 'empty')
FROM {table} AS t
WHERE EXISTS (SELECT FROM {keys_from} AS k WHERE k.{key} = t.{key})
