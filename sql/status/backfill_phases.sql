-- backfill_phases.sql — how far each backfill phase has got: rows in v2 shape out of all rows, and the
--   stored position of every pass (voice_migration.backfill_progress).
--
-- What: one row per phase and stored pass (scope '*' = every tenant, else the sorted tenant ids), in
--   phase order configs, calls, metrics; a phase no pass has started yet has one row with NULL pass
--   columns. Columns: phase, total, done, kept_in_v1, scope, rows_done, rows_changed, quarantined,
--   batches, started_at, updated_at, finished_at.
--     configs: total = configs, done = schema_version 'v2', kept_in_v1 = not v2 and in quarantine;
--     calls:   total = calls, done = outcome_code set, kept_in_v1 = 0 (calls are always migrated);
--     metrics: total = configs that have calls, done = rows of voice_agent_metrics, kept_in_v1 = 0.
--   Cost: one pass over voice_agent_configs and voice_agent_calls (a count, no sort): about a second
--   per 10 million calls; the rest reads indexes and the small bookkeeping tables.
-- Inputs: none. Needs revision 0003_v2_expand (the v2 columns and voice_migration.backfill_progress);
--   `voice-migration status` runs it only then.
-- Re-run: safe (read-only).

WITH totals (phase, position, total, done, kept_in_v1) AS (
    SELECT 'configs', 1, count(*), count(*) FILTER (WHERE c.schema_version = 'v2'),
           count(*) FILTER (WHERE c.schema_version IS DISTINCT FROM 'v2' AND EXISTS (
               SELECT 1 FROM voice_migration.quarantine AS q WHERE q.entity = 'config' AND q.entity_id = c.id))
      FROM voice_agent_configs AS c
    UNION ALL
    SELECT 'calls', 2, count(*), count(*) FILTER (WHERE k.outcome_code IS NOT NULL), 0
      FROM voice_agent_calls AS k
    UNION ALL
    SELECT 'metrics', 3,
           (SELECT count(*) FROM voice_agent_configs AS c
             WHERE EXISTS (SELECT 1 FROM voice_agent_calls AS k WHERE k.tenant_id = c.tenant_id AND k.config_id = c.id)),
           (SELECT count(*) FROM voice_agent_metrics),
           0
)
SELECT t.phase, t.total, t.done, t.kept_in_v1,
       p.scope, p.rows_done, p.rows_changed, p.quarantined, p.batches, p.started_at, p.updated_at, p.finished_at
  FROM totals AS t
  LEFT JOIN voice_migration.backfill_progress AS p ON p.phase = t.phase
 ORDER BY t.position, p.scope = '*' DESC, p.scope
