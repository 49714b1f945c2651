-- import_copy.sql — stream one exported file into its backup table (`voice-migration backups import`).
--
-- What: COPY ... FROM STDIN in PostgreSQL's text format (what export_copy.sql wrote); the client sends
--       the file in fixed-size blocks through psycopg's copy API, so memory does not grow with the file.
-- Inputs: template placeholders {backup} and {columns} (quoted identifiers). Run with TimeZone=UTC and
--         DateStyle=ISO (the caller sets them).
-- Re-run: no — it appends; the import runs it once per table inside its one transaction.

COPY {backup} ({columns}) FROM STDIN
