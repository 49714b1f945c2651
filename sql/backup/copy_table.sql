-- copy_table.sql — copy one table's rows in scope into a backup table (set-based).
--
-- What: creates {backup} with every column of {source} (CREATE TABLE ... LIKE, so a v1 or a
--       v2 table is copied whole, whatever the revision), fills it with the rows whose
--       {scope_column} is in the tenant scope, keys it on {key} and hides it from PUBLIC.
-- Inputs: template placeholders, filled with quoted identifiers by voice_migration/migration/backup.py:
--         {backup}, {source}, {scope_column}, {key}; the tenant scope comes from the
--         transaction setting voice_migration.tenant_ids = 'a,b' (empty or unset = every tenant).
-- Re-run: no — CREATE TABLE fails if {backup} exists (backup ids are never reused).

CREATE TABLE {backup} (LIKE {source});

INSERT INTO {backup}
SELECT *
FROM {source} AS s
WHERE nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
   OR s.{scope_column} = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*'));

ALTER TABLE {backup} ADD PRIMARY KEY ({key});

REVOKE ALL ON {backup} FROM PUBLIC
