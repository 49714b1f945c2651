-- record_evaluation.sql — store one watcher evaluation (voice_migration.rollout_evaluations).
--
-- What: inserts the row and returns its id. `audit_id` is the flag audit row of the action this
--   evaluation took (NULL when none), `audit_seen` the newest audit id the evaluation read.
-- Inputs: %(evaluated_at)s, %(watcher)s, %(enabled)s, %(percentage)s, %(window)s (interval),
--   %(v1_calls)s, %(v1_failed)s, %(v1_p95)s, %(v2_calls)s, %(v2_failed)s, %(v2_p95)s, %(checks)s (jsonb),
--   %(verdict)s, %(failures)s, %(successes)s, %(paused)s, %(action)s, %(audit_id)s, %(audit_seen)s, %(note)s.
-- Re-run: each run adds a row.

INSERT INTO voice_migration.rollout_evaluations (
    evaluated_at, watcher, enabled, percentage, health_window, v1_calls, v1_failed_calls, v1_p95_latency_ms,
    v2_calls, v2_failed_calls, v2_p95_latency_ms, checks, verdict, failures, successes, paused, action,
    audit_id, audit_seen, note)
VALUES (%(evaluated_at)s, %(watcher)s, %(enabled)s, %(percentage)s, %(window)s, %(v1_calls)s, %(v1_failed)s,
        %(v1_p95)s, %(v2_calls)s, %(v2_failed)s, %(v2_p95)s, %(checks)s, %(verdict)s, %(failures)s,
        %(successes)s, %(paused)s, %(action)s, %(audit_id)s, %(audit_seen)s, %(note)s)
RETURNING id
