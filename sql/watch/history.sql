-- history.sql — the watcher's latest evaluations, newest first (`voice-migration rollout history`).
--
-- What: the latest rows of voice_migration.rollout_evaluations, and for each the pause it opened
--   (if any) with who resumed it. No row when the table does not exist yet (before 0011_rollout_watch):
--   the caller checks to_regclass first.
-- Inputs: %(limit)s (integer).
-- Re-run: safe (read-only).

SELECT e.id, e.evaluated_at, e.watcher, e.enabled, e.percentage, e.verdict, e.failures, e.successes,
       e.action, e.paused, e.note,
       e.v1_calls, e.v1_failed_calls, e.v1_p95_latency_ms, e.v2_calls, e.v2_failed_calls, e.v2_p95_latency_ms,
       p.resumed_by, p.resumed_at
  FROM voice_migration.rollout_evaluations AS e
  LEFT JOIN voice_migration.rollout_pauses AS p ON p.evaluation_id = e.id
 ORDER BY e.id DESC
 LIMIT %(limit)s
