-- fix: stale_metrics
-- summary: metrics rows inserted or recomputed from the calls
-- what: recomputes voice_agent_metrics for the configs in scope with the metrics phase's function
--       (voice_migration.derive_metrics): inserts the missing rows and updates the rows whose values
--       differ (what the check sql/validation/metrics_accuracy.sql reports as missing or stale).
-- why safe: metrics are derived data; the recomputation is the backfill's own. A row for a config
--       without calls is not deleted (--fix never deletes): the metrics phase of `migrate` removes it.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe and idempotent: rows that already hold the recomputed values are not written. Never
--       deletes. Cost: the metrics function over every config in scope (~10 s per million calls).
-- returns: one row, fixed = the number of metrics rows inserted or updated.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
derived AS MATERIALIZED (
    SELECT d.*
    FROM scope AS s
    CROSS JOIN LATERAL voice_migration.derive_metrics(ARRAY(
        SELECT c FROM voice_agent_configs AS c WHERE s.ids IS NULL OR c.tenant_id = ANY (s.ids))) AS d
),
changed AS (
    INSERT INTO voice_agent_metrics AS m
        (tenant_id, config_id, total_calls, avg_duration_seconds, p50_latency_ms, p95_latency_ms,
         p99_latency_ms, outcome_counts, error_rate, first_call_at, last_call_at, computed_at)
    SELECT d.tenant_id, d.config_id, d.total_calls, d.avg_duration_seconds, d.p50_latency_ms,
           d.p95_latency_ms, d.p99_latency_ms, d.outcome_counts, d.error_rate, d.first_call_at,
           d.last_call_at, now()
    FROM derived AS d
    ON CONFLICT (config_id) DO UPDATE
    SET tenant_id = excluded.tenant_id, total_calls = excluded.total_calls,
        avg_duration_seconds = excluded.avg_duration_seconds, p50_latency_ms = excluded.p50_latency_ms,
        p95_latency_ms = excluded.p95_latency_ms, p99_latency_ms = excluded.p99_latency_ms,
        outcome_counts = excluded.outcome_counts, error_rate = excluded.error_rate,
        first_call_at = excluded.first_call_at, last_call_at = excluded.last_call_at,
        computed_at = excluded.computed_at
    WHERE (m.tenant_id, m.total_calls, m.avg_duration_seconds, m.p50_latency_ms, m.p95_latency_ms,
           m.p99_latency_ms, m.outcome_counts, m.error_rate, m.first_call_at, m.last_call_at)
          IS DISTINCT FROM
          (excluded.tenant_id, excluded.total_calls, excluded.avg_duration_seconds, excluded.p50_latency_ms,
           excluded.p95_latency_ms, excluded.p99_latency_ms, excluded.outcome_counts, excluded.error_rate,
           excluded.first_call_at, excluded.last_call_at)
    RETURNING 1
)
SELECT count(*) AS fixed FROM changed;
