-- indexes.sql — the valid indexes of one table, as CREATE INDEX statements.
--
-- What: pg_get_indexdef of every valid index of %(table)s (schema-qualified name), so a dry run can
--       give its copies the same keys (the backfill walks primary keys; ON CONFLICT needs the unique
--       indexes; the transform looks calls up by (tenant_id, config_id)).
-- Inputs: %(table)s.  Re-run: safe (read-only catalog query).
SELECT pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = %(table)s::regclass AND i.indisvalid
ORDER BY i.indexrelid
