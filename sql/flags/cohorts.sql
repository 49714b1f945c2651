-- cohorts.sql — v1 and v2 calls over a recent window: volume, failures, p95 latency.
--
-- What: one row per cohort that has calls in the window ('v1', 'v2'), read from the v1 columns of
--   voice_agent_calls (present since the baseline): `version` picks the cohort (NULL counts as v1,
--   the column's default; case is ignored; other values belong to neither), a failed call is
--   lower(status) IN ('failed', 'error') (docs/INTERNALS.md), and p95 is percentile_cont(0.95) over
--   the calls with a latency. Used by `rollout status` (24 h) and the `rollout advance` health gate.
-- Inputs: %(window)s (interval): calls with created_at >= now() - window; %(now)s (timestamptz or NULL):
--   when given, the window ends there instead of at now() (calls created after it are left out), so
--   `rollout watch` can evaluate on a clock of its own (tests simulate days of traffic without sleeping).
-- Re-run: safe (read-only).

SELECT cohort,
       count(*) AS calls,
       count(*) FILTER (WHERE lower(status) IN ('failed', 'error')) AS failed_calls,
       -- a latency double precision cannot hold (NaN, Infinity, 1e400, 1e-400) is no latency: it would
       -- abort the query (and the health gate) instead (same rule as derive_metrics, sql/transform).
       percentile_cont(0.95) WITHIN GROUP (
           ORDER BY CASE WHEN latency_ms = 0 OR abs(latency_ms) BETWEEN 1e-300 AND 1e300
                         THEN latency_ms::double precision END) AS p95_latency_ms
  FROM (SELECT CASE lower(coalesce(version, 'v1')) WHEN 'v1' THEN 'v1' WHEN 'v2' THEN 'v2' END AS cohort,
               status,
               latency_ms
          FROM voice_agent_calls
         WHERE created_at >= coalesce(%(now)s::timestamptz, now()) - %(window)s::interval
           AND (%(now)s::timestamptz IS NULL OR created_at <= %(now)s::timestamptz)) AS recent
 WHERE cohort IS NOT NULL
 GROUP BY cohort
