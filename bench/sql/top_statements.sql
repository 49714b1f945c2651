-- top_statements.sql — the statements that took the most time, from pg_stat_statements.
-- What: total and mean execution time, calls, rows, whether top level, and the query text, for the
--       current database; nested statements (inside functions) are there with track = all.
-- Inputs: top (how many).  Re-run: safe (read-only).
SELECT s.total_exec_time, s.calls, s.mean_exec_time, s.rows, s.toplevel, s.query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY s.total_exec_time DESC
LIMIT %(top)s
