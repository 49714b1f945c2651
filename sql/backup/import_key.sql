-- import_key.sql — key an imported backup table and hide it from PUBLIC, as copy_table.sql does for a new backup.
--
-- What: adds the primary key on {key} after the load (a duplicated key in a damaged export fails here)
--       and revokes every privilege from PUBLIC (schema voice_migration is never exposed).
-- Inputs: template placeholders {backup} and {key} (quoted identifiers).
-- Re-run: no — the primary key exists after the first run.

ALTER TABLE {backup} ADD PRIMARY KEY ({key});

REVOKE ALL ON {backup} FROM PUBLIC
