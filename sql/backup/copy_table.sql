-- copy_table.sql — copy one table's rows in scope into a backup table (set-based).
--
-- What: creates {backup} with every column of {source} (CREATE TABLE ... LIKE, so a v1 or a
--       v2 table is copied whole, whatever the revision). copy_rows.sql then fills it (and checksums
--       it in the same pass); copy_keys.sql keys it and hides it from PUBLIC.
-- Inputs: template placeholders, filled with quoted identifiers by voice_migration/migration/backup.py:
--         {backup}, {source}.
-- Re-run: no — CREATE TABLE fails if {backup} exists (backup ids are never reused).

CREATE TABLE {backup} (LIKE {source});
