/**
 * The SQL this client runs, embedded so the package works from any bundler (no files read at run time).
 * Each statement is the repository's runtime SQL file of the same name, parameters as $n; the Python suite
 * checks that they stay equal (tests/test_typescript_client.py::test_the_embedded_sql_is_the_repository_sql).
 */

/** Does the database have the held set (revision 0008_quarantine_hold on)? */
export const HELD_SET_EXISTS = "SELECT to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL AS exists";

/** sql/flags/snapshot.sql: switch, percentage and every override, in one statement (one MVCC snapshot). */
export const SNAPSHOT = `SELECT f.enabled,
       f.rollout_percentage,
       coalesce((SELECT jsonb_object_agg(o.tenant_id, o.enabled) FROM voice_agent_v2_tenant_overrides AS o),
                '{}'::jsonb) AS overrides
  FROM voice_agent_v2_flags AS f`;

/** sql/flags/snapshot_held.sql: as SNAPSHOT plus the held tenants, in one statement. */
export const SNAPSHOT_HELD = `SELECT f.enabled,
       f.rollout_percentage,
       coalesce((SELECT jsonb_object_agg(o.tenant_id, o.enabled) FROM voice_agent_v2_tenant_overrides AS o),
                '{}'::jsonb) AS overrides,
       coalesce((SELECT array_agg(h.tenant_id) FROM voice_agent_v2_held_tenants AS h), '{}'::text[]) AS held
  FROM voice_agent_v2_flags AS f`;

/** sql/flags/is_enabled.sql: the decision straight from the database. */
export const IS_ENABLED = "SELECT voice_agent_v2_enabled($1)";

/** sql/flags/status.sql: flags, tenants in v2 out of all tenants, overrides. */
export const STATUS = `SELECT f.enabled,
       f.rollout_percentage,
       f.updated_at,
       f.updated_by,
       f.step_started_at,
       t.tenants_in_v2,
       t.total_tenants,
       o.overrides_enabled,
       o.overrides_disabled
  FROM voice_agent_v2_flags AS f
 CROSS JOIN (SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id)) AS tenants_in_v2,
                    count(*) AS total_tenants
               FROM tenants) AS t
 CROSS JOIN (SELECT count(*) FILTER (WHERE enabled) AS overrides_enabled,
                    count(*) FILTER (WHERE NOT enabled) AS overrides_disabled
               FROM voice_agent_v2_tenant_overrides) AS o`;

/** sql/flags/cohorts.sql: v1 and v2 calls, failures and p95 latency since now() - $1. */
export const COHORTS = `SELECT cohort,
       count(*) AS calls,
       count(*) FILTER (WHERE lower(status) IN ('failed', 'error')) AS failed_calls,
       percentile_cont(0.95) WITHIN GROUP (
           ORDER BY CASE WHEN latency_ms = 0 OR abs(latency_ms) BETWEEN 1e-300 AND 1e300
                         THEN latency_ms::double precision END) AS p95_latency_ms
  FROM (SELECT CASE lower(coalesce(version, 'v1')) WHEN 'v1' THEN 'v1' WHEN 'v2' THEN 'v2' END AS cohort,
               status,
               latency_ms
          FROM voice_agent_calls
         WHERE created_at >= coalesce($1::timestamptz, now()) - $2::interval
           AND ($1::timestamptz IS NULL OR created_at <= $1::timestamptz)) AS recent
 WHERE cohort IS NOT NULL
 GROUP BY cohort`;

/** The NOTIFY channel of every flag, override and held-set change (sql/flags/guards.sql). */
export const CHANNEL = "voice_agent_v2_flags";

/** The function the Supabase (REST) source calls with `rpc` (sql/objects/voice_agent_v2_flag_snapshot). */
export const SNAPSHOT_RPC = "voice_agent_v2_flag_snapshot";
