-- lock_holder.sql — which session holds the rollout watcher lock (for the "another watcher" message).
--
-- What: the holder's server pid, application name, client address and connection time (UTC), or no row.
-- Inputs: none.
-- Re-run: safe (read-only).

SELECT a.pid,
       a.application_name,
       coalesce(host(a.client_addr), 'local socket') AS client,
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since
  FROM pg_locks AS l
  JOIN pg_stat_activity AS a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 30317 AND l.objid = 19 AND l.objsubid = 2
