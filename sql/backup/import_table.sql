-- import_table.sql — the empty table an imported backup table is loaded into (`voice-migration backups import`).
--
-- What: creates {backup} with the columns an export's manifest.json lists, in their order and with
--       their types. It becomes visible to other sessions only when the import commits, i.e. after
--       every checksum of the export was verified; a failed import rolls it back with everything else.
-- Inputs: template placeholders {backup} (qualified name) and {column_definitions} ("name" type, ...):
--         names are quoted identifiers; types come from the manifest and are accepted only when they
--         look like a type name (voice_migration/migration/backup_export.py checks them).
-- Re-run: no — CREATE TABLE fails if {backup} exists (import refuses an id the database already has).

CREATE TABLE {backup} ({column_definitions})
