-- derive_metrics v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.derive_metrics, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/55_transform_metrics.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
