-- lock_audit.sql — locks the dry run's own session holds that an application write could wait on.
--
-- What: every relation lock of this backend stronger than ACCESS SHARE on a table outside its own
--       temporary schema and the system catalogs. A dry run only reads the application's tables, so
--       this returns no rows; the dry run checks it after every step and stops (rolling back) if it
--       ever does not. Row locks need a ROW SHARE or stronger table lock first, so they show up here too.
-- Inputs: none.  Re-run: safe (read-only).
SELECT l.mode, coalesce(quote_ident(n.nspname) || '.' || quote_ident(c.relname), l.relation::text)
FROM pg_locks AS l
LEFT JOIN pg_class AS c ON c.oid = l.relation
LEFT JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE l.pid = pg_backend_pid()
  AND l.locktype = 'relation'
  AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
  AND l.mode <> 'AccessShareLock'
  AND n.oid IS DISTINCT FROM pg_my_temp_schema()
  AND coalesce(n.nspname, '') NOT IN ('pg_catalog', 'pg_toast')
  AND coalesce(n.nspname, '') NOT LIKE 'pg_toast_temp_%'
ORDER BY 2, 1
