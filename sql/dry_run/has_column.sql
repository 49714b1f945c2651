-- has_column.sql — whether the dry run's copy of a table has a column.
--
-- What: true when pg_temp.%(table)s has column %(column)s (the v2 columns exist from 0003_v2_expand on).
-- Inputs: %(table)s, %(column)s.  Re-run: safe (read-only).
SELECT EXISTS (
    SELECT FROM pg_attribute AS a
    WHERE a.attrelid = to_regclass('pg_temp.' || quote_ident(%(table)s))
      AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped)
