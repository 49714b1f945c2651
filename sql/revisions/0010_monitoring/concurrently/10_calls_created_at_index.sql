-- 10_calls_created_at_index.sql — the index the rollout cohorts read through: calls by created_at.
--
-- What: builds voice_agent_calls_created_at_idx CONCURRENTLY (application writers are never blocked).
--       voice_migration.rollout_cohorts(window), sql/flags/cohorts.sql (`rollout status`, the health
--       gate, `rollout watch` every interval) and a dashboard polling them all read the calls of a
--       recent window; without it each read is a full scan of voice_agent_calls.
--       A plain index on (created_at), no INCLUDE columns, on purpose: status and latency_ms are written
--       by the application while a call runs, and an indexed (or included) column that changes makes
--       that UPDATE non-HOT. created_at is written once.
-- Inputs: none. Must run outside a transaction block (alembic autocommit_block; psql autocommit).
-- Re-run: safe (IF NOT EXISTS). An interrupted build leaves an INVALID index that IF NOT EXISTS would
--         keep: DROP INDEX CONCURRENTLY voice_agent_calls_created_at_idx, then run again.

CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_created_at_idx
    ON voice_agent_calls (created_at);
