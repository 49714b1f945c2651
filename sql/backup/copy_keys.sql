-- copy_keys.sql — key a filled backup table on {key} and hide it from PUBLIC.
--
-- What: the primary key after the rows (one index build, not one insert per row), then REVOKE.
-- Inputs: template placeholders filled with quoted identifiers by voice_migration/migration/backup.py.
-- Re-run: no — ADD PRIMARY KEY fails on a table that has one.

ALTER TABLE {backup} ADD PRIMARY KEY ({key});

REVOKE ALL ON {backup} FROM PUBLIC
