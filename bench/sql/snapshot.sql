-- snapshot.sql — where the WAL is and how big the current database is, before and after a contender.
--
-- What: the current WAL insert position (as text, for pg_wal_lsn_diff later) and pg_database_size.
--       WAL is cluster-wide: the benchmark runs one contender at a time on its own server.
-- Inputs: none.  Re-run: safe (read-only).

SELECT pg_current_wal_lsn()::text, pg_database_size(current_database());
