-- limit_metrics.sql — the honest limit's metrics: one CREATE TABLE AS with percentile_cont.
--
-- What: per config with calls (a config's calls: its id AND its tenant_id): total_calls, avg duration,
--       p50/p95/p99 latency (percentile_cont; a latency outside double precision counts as none),
--       outcome_counts, error_rate (status failed or error), first and last call, into
--       voice_migration.limit_metrics. No project function is called.
-- Inputs: calls with their outcome (limit_calls.sql ran).
-- Re-run: no (plain CREATE TABLE).

CREATE TABLE voice_migration.limit_metrics AS
WITH calls AS MATERIALIZED (
    SELECT c.tenant_id, c.config_id, c.duration_seconds, c.latency_ms, c.outcome_code, c.status, c.created_at
    FROM voice_agent_calls AS c
    JOIN voice_agent_configs AS g ON g.tenant_id = c.tenant_id AND g.id = c.config_id
),
outcomes AS (
    SELECT o.tenant_id, o.config_id, jsonb_object_agg(o.outcome_code, o.n) AS counts
    FROM (SELECT k.tenant_id, k.config_id, k.outcome_code, count(*) AS n FROM calls AS k
          WHERE k.outcome_code IS NOT NULL GROUP BY 1, 2, 3) AS o
    GROUP BY 1, 2
)
SELECT a.tenant_id, a.config_id, a.total AS total_calls, a.avg_duration AS avg_duration_seconds,
       a.pct[1] AS p50_latency_ms, a.pct[2] AS p95_latency_ms, a.pct[3] AS p99_latency_ms,
       coalesce(o.counts, '{}'::jsonb) AS outcome_counts, a.failed::numeric / a.total AS error_rate,
       a.first_at AS first_call_at, a.last_at AS last_call_at, now() AS computed_at
FROM (SELECT k.tenant_id, k.config_id, count(*) AS total, avg(k.duration_seconds) AS avg_duration,
             percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
                 ORDER BY CASE WHEN k.latency_ms = 0 OR abs(k.latency_ms) BETWEEN 1e-300 AND 1e300
                          THEN k.latency_ms END) AS pct,
             count(*) FILTER (WHERE lower(k.status) IN ('failed', 'error')) AS failed,
             min(k.created_at) AS first_at, max(k.created_at) AS last_at
      FROM calls AS k GROUP BY 1, 2) AS a
LEFT JOIN outcomes AS o ON o.tenant_id = a.tenant_id AND o.config_id = a.config_id;
