-- checksum.sql — row count and checksum of {table}'s rows whose {key} is also in {keys_from}.
--
-- What: count(*) and md5 over ROW({columns})::text ordered by {key}, joined by newlines
--       ('empty' for no rows). With {keys_from} = {table} it covers the whole table (the
--       manifest checksum); with {keys_from} = a backup table it covers the live rows that
--       the backup holds (the verification after a restore).
-- Inputs: template placeholders filled with quoted identifiers by voice_migration/backup.py.
--         Run with TimeZone=UTC and DateStyle=ISO (the caller sets them) so the text is stable.
-- Re-run: safe (read-only).

SELECT count(*),
       coalesce(md5(string_agg(ROW({columns})::text, E'\n' ORDER BY t.{key})), 'empty')
FROM {table} AS t
WHERE EXISTS (SELECT FROM {keys_from} AS k WHERE k.{key} = t.{key})
