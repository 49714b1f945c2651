-- check: out_of_range
-- severity: medium
-- what: v1 call measurements that cannot be true: a negative duration_seconds or latency_ms, or a
--       latency_ms that double precision cannot hold (NaN, Infinity, 1e400, 1e-400: outside 0 and
--       1e-300..1e300 in magnitude): the metrics leave it out of the latency percentiles, which are
--       computed in double precision.
-- failure means: v1 columns are never modified by the migration, so these values reach v2 as they are,
--       skew the config's metrics (avg duration, latency percentiles) and are reported by the v2
--       value_constraints check until the source row is corrected.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: only the v1 tables (revision 0001_v1_baseline); works on a v1-only database.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'out_of_range' AS check_name, 'medium' AS severity, 'call' AS entity, k.id, k.tenant_id,
       concat_ws('; ',
                 CASE WHEN k.duration_seconds < 0 THEN format('duration_seconds %s is negative', k.duration_seconds) END,
                 CASE WHEN k.latency_ms < 0 THEN format('latency_ms %s is negative', k.latency_ms) END,
                 CASE WHEN NOT (k.latency_ms = 0 OR abs(k.latency_ms) BETWEEN 1e-300 AND 1e300)
                      THEN format('latency_ms %s is not a finite double precision number: left out of the '
                                  'latency percentiles', left(k.latency_ms::text, 40)) END) AS detail
FROM voice_agent_calls AS k, scope AS s
WHERE (k.duration_seconds < 0 OR k.latency_ms < 0
       OR NOT (k.latency_ms = 0 OR abs(k.latency_ms) BETWEEN 1e-300 AND 1e300))
  AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids));
