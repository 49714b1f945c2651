-- bare_metrics.sql — the bare-SQL limit's metrics: one statement filling voice_agent_metrics.
--
-- What: one voice_agent_metrics row per config with calls, from the project's own
--       voice_migration.derive_metrics over every config at once. An INSERT ... SELECT into the
--       real table rather than a CREATE TABLE AS into a scratch one, so the result is the same
--       table (with its unique index) that `migrate` fills: the comparison stays like for like.
-- Inputs: a database at Alembic head whose calls have their outcome (bare_calls.sql ran).
-- Re-run: no (the unique index on config_id rejects a second run).

INSERT INTO voice_agent_metrics
    (tenant_id, config_id, total_calls, avg_duration_seconds, p50_latency_ms, p95_latency_ms, p99_latency_ms,
     outcome_counts, error_rate, first_call_at, last_call_at, computed_at)
SELECT d.tenant_id, d.config_id, d.total_calls, d.avg_duration_seconds, d.p50_latency_ms, d.p95_latency_ms,
       d.p99_latency_ms, d.outcome_counts, d.error_rate, d.first_call_at, d.last_call_at, now()
FROM voice_migration.derive_metrics(ARRAY(SELECT x FROM voice_agent_configs AS x)) AS d;
