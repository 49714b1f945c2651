-- context.sql — everything one watcher evaluation reads besides the cohorts, in one row.
--
-- What: the flags row (not locked), the evaluation's clock, the newest flag audit id, the open pause
--   (if any), the previous evaluation (if any), and how many flag changes by someone other than the
--   watcher came after the previous evaluation saw the audit (with who made them). Run in the same
--   REPEATABLE READ snapshot as the cohort query, so the numbers belong together.
-- Inputs: %(now)s (timestamptz or NULL = the database's now()), %(by)s (the watcher's actor).
-- Re-run: safe (read-only).

SELECT f.enabled,
       f.rollout_percentage,
       f.step_started_at,
       coalesce(%(now)s::timestamptz, now()) AS evaluated_at,
       (SELECT max(a.id) FROM public.voice_agent_v2_flag_audit AS a) AS audit_max,
       p.id AS pause_id, p.paused_at, p.paused_by, p.reason AS pause_reason,
       e.id AS previous_id, e.evaluated_at AS previous_at, e.enabled AS previous_enabled,
       e.percentage AS previous_percentage, e.action AS previous_action, e.failures AS previous_failures,
       e.successes AS previous_successes, e.paused AS previous_paused,
       h.changes AS others_changes, h.who AS others
  FROM public.voice_agent_v2_flags AS f
  LEFT JOIN LATERAL (SELECT id, paused_at, paused_by, reason FROM voice_migration.rollout_pauses
                      WHERE resumed_at IS NULL) AS p ON true
  LEFT JOIN LATERAL (SELECT * FROM voice_migration.rollout_evaluations ORDER BY id DESC LIMIT 1) AS e ON true
  LEFT JOIN LATERAL (SELECT count(*) AS changes, string_agg(DISTINCT a.changed_by, ', ') AS who
                       FROM public.voice_agent_v2_flag_audit AS a
                      WHERE a.id > coalesce(e.audit_seen, 0) AND a.changed_by <> %(by)s) AS h ON true
