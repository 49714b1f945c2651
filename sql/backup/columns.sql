-- columns.sql — the writable columns of one table, in table order.
--
-- What: name, NOT NULL, has-a-default and type (format_type, e.g. `timestamp with time zone`, `text[]`)
--       of every live, non-generated column of schema %(schema)s, table %(table)s. Used to match a
--       backup's columns to today's table, and to describe them in an export's manifest.json.
-- Inputs: parameters %(schema)s and %(table)s. Returns no rows when the table does not exist.
-- Re-run: safe (read-only).

SELECT a.attname::text, a.attnotnull, a.atthasdef, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
  AND c.relname = %(table)s
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND a.attgenerated = ''
ORDER BY a.attnum
