-- export_copy.sql — stream one backup table out of the database (`voice-migration backups export`).
--
-- What: COPY ... TO STDOUT in PostgreSQL's text format, the columns in table order. The client
--       (voice_migration/migration/backup_export.py) writes the stream to <table>.copy block by block
--       through psycopg's copy API: no table is ever held in memory, on either side.
-- Inputs: template placeholders {backup} (the qualified backup table) and {columns} (its columns,
--         quoted identifiers). Run with TimeZone=UTC and DateStyle=ISO (the caller sets them), the
--         settings the backup's checksums are computed with.
-- Re-run: safe (read-only).

COPY {backup} ({columns}) TO STDOUT
