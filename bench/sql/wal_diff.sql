-- wal_diff.sql — WAL bytes between two positions taken by snapshot.sql.
-- Inputs: after, before (pg_lsn as text).  Re-run: safe (read-only).
SELECT pg_wal_lsn_diff(%(after)s::pg_lsn, %(before)s::pg_lsn)::bigint
