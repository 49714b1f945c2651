-- limit_metrics_publish.sql — after the clock stops: the limit's metrics into voice_agent_metrics.
--
-- What: copies voice_migration.limit_metrics into the real table, so the same result checksum
--       (bench.common.result_checksum) compares the limit with `migrate`. Not timed.
-- Inputs: limit_metrics.sql ran.  Re-run: no (the unique index on config_id rejects a second run).

INSERT INTO voice_agent_metrics
    (tenant_id, config_id, total_calls, avg_duration_seconds, p50_latency_ms, p95_latency_ms, p99_latency_ms,
     outcome_counts, error_rate, first_call_at, last_call_at, computed_at)
SELECT tenant_id, config_id, total_calls, avg_duration_seconds, p50_latency_ms, p95_latency_ms, p99_latency_ms,
       outcome_counts, error_rate, first_call_at, last_call_at, computed_at
FROM voice_migration.limit_metrics;
