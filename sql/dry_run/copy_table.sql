-- copy_table.sql — copy one table into the dry run's private schema (pg_temp), reading only.
--
-- What: a temporary table of the same name and columns (defaults included; no constraints, no
--       triggers: the copy is a scratch pad, not the application's table) holding the source's rows;
--       the calls only of the tenant scope. Reading takes ACCESS SHARE on the source, which no
--       INSERT, UPDATE or DELETE waits on; nothing is written to the source.
-- Inputs: identifiers {source} (schema-qualified) and {name}; value %(tenants)s (text[], NULL = all;
--         only used when {scope_filter} is the tenant filter).
-- Re-run: no (CREATE TEMP TABLE); it runs once per table inside the dry run's rolled-back transaction.
CREATE TEMP TABLE {name} (LIKE {source} INCLUDING DEFAULTS);
INSERT INTO pg_temp.{name} SELECT * FROM {source} AS s {scope_filter};
