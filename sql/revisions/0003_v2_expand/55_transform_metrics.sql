-- 40_metrics.sql — per-config call metrics (DESIGN.md section 3, voice_agent_metrics).
--
-- What: voice_migration.derive_metrics(voice_agent_configs[]) -> one row per input config that has
--       calls: total_calls, avg_duration_seconds (avg of duration_seconds as stored), p50/p95/p99 of
--       latency_ms (percentile_cont over the calls with non-NULL latency), outcome_counts
--       ({outcome_code: calls}), error_rate (failed calls / total calls; failed =
--       lower(status) IN ('failed', 'error'), INTERNALS.md), first_call_at and last_call_at.
--       A config's calls are those with its id AND its tenant_id (routable by tenant; a call filed
--       under another tenant is damage, counted by validation, not by the metrics).
-- Inputs: voice_agent_calls (outcome_code filled by the calls phase first).
-- Re-run: safe (CREATE OR REPLACE); the function only reads.

CREATE OR REPLACE FUNCTION voice_migration.derive_metrics(p_configs voice_agent_configs[])
RETURNS TABLE (
    tenant_id            text,
    config_id            text,
    total_calls          bigint,
    avg_duration_seconds numeric,
    p50_latency_ms       double precision,
    p95_latency_ms       double precision,
    p99_latency_ms       double precision,
    outcome_counts       jsonb,
    error_rate           numeric,
    first_call_at        timestamptz,
    last_call_at         timestamptz
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH cfg AS (
        SELECT s.id, s.tenant_id FROM unnest(p_configs) AS s
    ),
    calls AS MATERIALIZED (
        SELECT c.tenant_id, c.config_id, c.duration_seconds, c.latency_ms, c.outcome_code, c.status,
               c.created_at
        FROM cfg
        JOIN public.voice_agent_calls AS c ON c.tenant_id = cfg.tenant_id AND c.config_id = cfg.id
    ),
    outcomes AS (
        SELECT o.tenant_id, o.config_id, jsonb_object_agg(o.outcome_code, o.n ORDER BY o.outcome_code) AS counts
        FROM (SELECT c.tenant_id, c.config_id, c.outcome_code, count(*) AS n FROM calls AS c
              WHERE c.outcome_code IS NOT NULL GROUP BY 1, 2, 3) AS o
        GROUP BY 1, 2
    ),
    agg AS (
        SELECT c.tenant_id, c.config_id, count(*) AS total, avg(c.duration_seconds) AS avg_duration,
               -- percentile_cont works in double precision: a numeric latency beyond its range (NaN,
               -- Infinity, 1e400, 1e-400) cannot be a latency and would abort the batch; it counts as no
               -- latency (pre-flight out_of_range reports it; validation's metrics_accuracy agrees).
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
                   ORDER BY CASE WHEN c.latency_ms = 0 OR abs(c.latency_ms) BETWEEN 1e-300 AND 1e300
                              THEN c.latency_ms END) AS pct,
               count(*) FILTER (WHERE lower(c.status) IN ('failed', 'error')) AS failed,
               min(c.created_at) AS first_at, max(c.created_at) AS last_at
        FROM calls AS c
        GROUP BY 1, 2
    )
    SELECT a.tenant_id, a.config_id, a.total, a.avg_duration, a.pct[1], a.pct[2], a.pct[3],
           coalesce(o.counts, '{}'::jsonb), a.failed::numeric / a.total, a.first_at, a.last_at
    FROM agg AS a
    LEFT JOIN outcomes AS o ON o.tenant_id = a.tenant_id AND o.config_id = a.config_id;
END
$$;
