-- check: metrics_accuracy
-- severity: high
-- what: every voice_agent_metrics row in scope equals a recomputation from the calls, by the contract's
--       definition (DESIGN.md section 3, INTERNALS.md): one row per existing config that has calls, where
--       a config's calls are those with its id and its tenant_id; total_calls; avg_duration_seconds (avg
--       of duration_seconds as stored); p50/p95/p99_latency_ms (percentile_cont over the calls with a
--       latency); outcome_counts ({outcome_code: calls}); error_rate (failed calls / total calls, failed =
--       lower(status) IN ('failed', 'error')); first_call_at and last_call_at (min/max created_at).
--       The recomputation is written here, apart from the metrics function it checks, on purpose: a
--       check that reused voice_migration.derive_metrics would only find stale rows, never a wrong
--       formula (and that function, built for batches, takes ~10 s over a million calls).
-- failure means: dashboards show wrong numbers, or the metrics phase did not run for these configs.
--       A row that is only behind the calls that arrived after its computed_at is reported at low
--       severity (a snapshot of a live system, not an error): that keeps `migrate`'s verification
--       meaningful while the application keeps writing. `voice-migration validate
--       --fix` recomputes stale and missing rows with the metrics phase's function. A row for a config
--       that no longer has calls is reported too; --fix never deletes, the metrics phase of `migrate`
--       removes it.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT. Cost: one sort of the calls in scope (give it work_mem: 128MB sorts a
--       million calls in memory; `voice-migration validate` sets that for its transaction).
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
calls AS (
    -- One sort of the calls serves every value. They are grouped by a 64-bit hash of (tenant_id,
    -- config_id): sorting a million rows by one integer is several times faster than by two text keys
    -- under a linguistic collation (two configs whose keys collided, odds ~ n^2 / 2^65, would be
    -- reported, never hidden). The window counts each outcome code of a config on the same order.
    SELECT k.*, count(*) OVER w AS code_calls, row_number() OVER w = 1 AS first_of_code
    FROM (SELECT hash_record_extended(ROW(c.tenant_id, c.config_id), 0) AS h, c.tenant_id, c.config_id,
                 c.duration_seconds, c.latency_ms, c.outcome_code COLLATE "C" AS outcome_code, c.status,
                 c.created_at
          FROM voice_agent_calls AS c, scope AS s
          WHERE c.tenant_id IS NOT NULL AND c.config_id IS NOT NULL
            AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))) AS k
    WINDOW w AS (PARTITION BY k.h, k.outcome_code)
),
expected AS (
    SELECT e.*
    -- every call of a group has the same keys; min() only picks them up, bytewise ("C") for speed
    FROM (SELECT k.h, min(k.tenant_id COLLATE "C") AS tenant_id, min(k.config_id COLLATE "C") AS config_id,
                 count(*) AS total_calls, avg(k.duration_seconds) AS avg_duration_seconds,
                 -- a latency beyond double precision (NaN, ±Infinity, 1e±400) is no latency, as in derive_metrics
                 percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
                     ORDER BY CASE WHEN k.latency_ms = 0 OR abs(k.latency_ms) BETWEEN 1e-300 AND 1e300
                              THEN k.latency_ms END) AS pct,
                 count(*) FILTER (WHERE lower(k.status) IN ('failed', 'error'))::numeric / count(*) AS error_rate,
                 min(k.created_at) AS first_call_at, max(k.created_at) AS last_call_at,
                 coalesce(jsonb_object_agg(k.outcome_code, k.code_calls)
                              FILTER (WHERE k.first_of_code AND k.outcome_code IS NOT NULL),
                          '{}'::jsonb) AS outcome_counts
          FROM calls AS k
          GROUP BY 1) AS e
    -- calls of a config that does not exist, or filed under another tenant, count for no metrics row
    WHERE EXISTS (SELECT FROM voice_agent_configs AS c WHERE c.id = e.config_id AND c.tenant_id = e.tenant_id)
),
actual AS (
    SELECT m.*
    FROM voice_agent_metrics AS m, scope AS s
    WHERE s.ids IS NULL OR m.tenant_id = ANY (s.ids)
),
compared AS (
    SELECT coalesce(e.config_id, a.config_id) AS id, coalesce(e.tenant_id, a.tenant_id) AS tenant_id,
           e.config_id IS NOT NULL AS has_calls, a.config_id IS NOT NULL AS has_row, e.total_calls,
           -- newer calls than the snapshot: only traffic since the metrics were computed explains it
           CASE WHEN a.config_id IS NOT NULL THEN e.last_call_at > a.computed_at
                ELSE e.first_call_at > (SELECT max(z.computed_at) FROM actual AS z) END AS newer_calls,
           concat_ws(', ',
               CASE WHEN a.total_calls IS DISTINCT FROM e.total_calls
                    THEN format('total_calls %s, recomputed %s', a.total_calls, e.total_calls) END,
               CASE WHEN a.avg_duration_seconds IS DISTINCT FROM e.avg_duration_seconds
                    THEN format('avg_duration_seconds %s, recomputed %s', round(a.avg_duration_seconds, 3),
                                round(e.avg_duration_seconds, 3)) END,
               CASE WHEN (a.p50_latency_ms, a.p95_latency_ms, a.p99_latency_ms)
                         IS DISTINCT FROM (e.pct[1], e.pct[2], e.pct[3])
                    THEN format('p50/p95/p99 %s/%s/%s, recomputed %s/%s/%s', a.p50_latency_ms, a.p95_latency_ms,
                                a.p99_latency_ms, e.pct[1], e.pct[2], e.pct[3]) END,
               CASE WHEN a.outcome_counts IS DISTINCT FROM e.outcome_counts
                    THEN format('outcome_counts %s, recomputed %s', a.outcome_counts, e.outcome_counts) END,
               CASE WHEN a.error_rate IS DISTINCT FROM e.error_rate
                    THEN format('error_rate %s, recomputed %s', round(a.error_rate, 4), round(e.error_rate, 4)) END,
               CASE WHEN (a.first_call_at, a.last_call_at) IS DISTINCT FROM (e.first_call_at, e.last_call_at)
                    THEN 'first/last call times differ' END) AS differences
    FROM expected AS e
    FULL JOIN actual AS a ON a.config_id = e.config_id AND a.tenant_id = e.tenant_id
)
SELECT 'metrics_accuracy' AS check_name,
       -- A live application keeps filing calls while (and after) the metrics are computed: a row that
       -- differs only because calls newer than its computed_at arrived is a snapshot, not a wrong number
       -- (low: refresh with --fix or the metrics phase). Anything else is high. A call filed with a
       -- created_at in the past after the snapshot is not told apart, and stays high.
       CASE WHEN x.has_calls AND coalesce(x.newer_calls, false) THEN 'low' ELSE 'high' END AS severity,
       'metrics' AS entity, x.id, x.tenant_id,
       CASE WHEN NOT x.has_row THEN format('missing: the config has %s calls but no metrics row', x.total_calls)
                                    || CASE WHEN x.newer_calls THEN ' (its calls arrived after the metrics were computed)'
                                            ELSE '' END
            WHEN NOT x.has_calls THEN 'the config has no calls (any more) but still has a metrics row'
            WHEN x.newer_calls THEN 'stale (calls arrived after the metrics were computed): ' || x.differences
            ELSE 'stale: ' || x.differences END AS detail
FROM compared AS x
WHERE NOT x.has_row OR NOT x.has_calls OR x.differences <> '';
