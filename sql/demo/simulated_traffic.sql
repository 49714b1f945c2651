-- simulated_traffic.sql — the demo's recent calls: a v2 cohort that does worse than v1.
--
-- What: inserts calls made in the last hour, so the rollout health gate has something to judge:
--       %(v1_calls)s calls with version 'v1' spread over the tenants voice_agent_v2_enabled() keeps on
--       v1, and %(v2_calls)s calls with version 'v2' over the tenants it puts in v2. Of each cohort,
--       %(v1_failed_pct)s / %(v2_failed_pct)s calls in a hundred are failed (status 'failed'), and the
--       latency is %(v1_latency_ms)s / %(v2_latency_ms)s ms give or take a fifth. Each call uses the
--       tenant's first config. Deterministic (no random()): call g goes to tenant number mod(g, cohort size).
--       A cohort with no tenant gets no calls. Only `voice-migration demo` runs this; it says so.
-- Inputs: the parameters above; the rollout flags (revision 0002_v2_flags) and the v1 tables.
-- Re-run: no — the ids ('demo_live_v1_000001', ...) are fixed; a second run fails on the key.

WITH cohort AS (
    SELECT t.id AS tenant_id,
           e.v2,
           row_number() OVER (PARTITION BY e.v2 ORDER BY t.id) - 1 AS n,
           count(*) OVER (PARTITION BY e.v2) AS size
    FROM tenants AS t
    CROSS JOIN LATERAL (SELECT voice_agent_v2_enabled(t.id) AS v2) AS e
),
traffic (version, v2, calls, failed_pct, latency_ms) AS (
    VALUES ('v1', false, %(v1_calls)s::int, %(v1_failed_pct)s::int, %(v1_latency_ms)s::numeric),
           ('v2', true,  %(v2_calls)s::int, %(v2_failed_pct)s::int, %(v2_latency_ms)s::numeric)
)
INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, ended_reason,
                               duration_seconds, latency_ms, outcome, transcript, version, created_at)
SELECT 'demo_live_' || p.version || '_' || lpad(g::text, 6, '0'),
       c.tenant_id,
       (SELECT min(k.id) FROM voice_agent_configs AS k WHERE k.tenant_id = c.tenant_id),
       'inbound',
       CASE WHEN mod(g, 100) < p.failed_pct THEN 'failed' ELSE 'completed' END,
       CASE WHEN mod(g, 100) < p.failed_pct THEN 'pipeline-error' ELSE 'customer-ended-call' END,
       30 + mod(g, 240),
       round(p.latency_ms * (0.8 + mod(g, 5) * 0.1)),
       NULL,
       NULL,
       p.version,
       now() - make_interval(secs => mod(g, 3600))
FROM traffic AS p
CROSS JOIN generate_series(1, p.calls) AS g
JOIN cohort AS c ON c.v2 = p.v2 AND c.n = mod(g, c.size)
