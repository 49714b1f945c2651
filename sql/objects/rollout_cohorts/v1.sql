-- rollout_cohorts v1 — the v1 and v2 cohorts over a recent window, as a function any SQL client can call.
--
-- What: voice_migration.rollout_cohorts(p_window interval, p_now timestamptz DEFAULT NULL) returns two
--   rows, 'v1' then 'v2' (a cohort without calls has calls = 0 and NULL rates), with the numbers the
--   rollout health gate judges: calls, failed calls, error rate (0..1) and p95 latency of the calls
--   created in (now - window, now]. The rules are those of sql/flags/cohorts.sql, which the gate and
--   `rollout status` run (tests/test_monitoring.py proves the two agree): `version` picks the cohort
--   (NULL = v1, case ignored, other values in neither), a failed call is lower(status) IN ('failed',
--   'error'), p95 is percentile_cont(0.95) over latencies double precision can hold.
--   p_now (default now()) ends the window, for a dashboard's time range; window_start/window_end say
--   which window was read. Served by voice_agent_calls_created_at_idx (built CONCURRENTLY by 0010).
--   SECURITY DEFINER, on purpose (the one monitoring exception to SECURITY INVOKER): it returns only
--   aggregates, so a monitoring role granted EXECUTE needs no SELECT on the calls themselves
--   (sql/security/monitoring_role.sql); search_path pinned and every name schema-qualified, so nothing
--   planted in public runs inside it; EXECUTE revoked from PUBLIC.
-- Inputs: p_window (positive interval, e.g. '24 hours'), p_now (timestamptz or NULL).
--   Installed by revision 0010_monitoring, whose downgrade drops it.
-- Re-run: safe (CREATE OR REPLACE with the same signature).

CREATE OR REPLACE FUNCTION voice_migration.rollout_cohorts(p_window interval, p_now timestamptz DEFAULT NULL)
RETURNS TABLE (
    cohort         text,
    calls          bigint,
    failed_calls   bigint,
    error_rate     numeric,
    p95_latency_ms double precision,
    window_start   timestamptz,
    window_end     timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH bounds AS (
        SELECT coalesce(p_now, now()) - p_window AS since, coalesce(p_now, now()) AS until
    ), recent AS (
        SELECT CASE lower(coalesce(k.version, 'v1')) WHEN 'v1' THEN 'v1' WHEN 'v2' THEN 'v2' END AS cohort,
               k.status,
               k.latency_ms
          FROM public.voice_agent_calls AS k, bounds AS b
         WHERE k.created_at >= b.since
           AND (p_now IS NULL OR k.created_at <= b.until)
    ), agg AS (
        SELECT r.cohort,
               count(*) AS calls,
               count(*) FILTER (WHERE lower(r.status) IN ('failed', 'error')) AS failed_calls,
               percentile_cont(0.95) WITHIN GROUP (
                   ORDER BY CASE WHEN r.latency_ms = 0 OR abs(r.latency_ms) BETWEEN 1e-300 AND 1e300
                                 THEN r.latency_ms::double precision END) AS p95_latency_ms
          FROM recent AS r
         WHERE r.cohort IS NOT NULL
         GROUP BY r.cohort
    )
    SELECT c.cohort,
           coalesce(a.calls, 0),
           coalesce(a.failed_calls, 0),
           round(a.failed_calls::numeric / nullif(a.calls, 0), 6),
           a.p95_latency_ms,
           b.since,
           b.until
      FROM (VALUES ('v1'), ('v2')) AS c (cohort)
     CROSS JOIN bounds AS b
      LEFT JOIN agg AS a ON a.cohort = c.cohort
     ORDER BY c.cohort
$$;

COMMENT ON FUNCTION voice_migration.rollout_cohorts(interval, timestamptz) IS
    'voice agent v2 rollout: calls, failed calls, error rate and p95 latency of the v1 and v2 cohorts over a window';

REVOKE ALL ON FUNCTION voice_migration.rollout_cohorts(interval, timestamptz) FROM PUBLIC;
