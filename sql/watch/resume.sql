-- resume.sql — a person lifts the watcher's pause (`voice-migration rollout resume --by WHO`).
--
-- What: closes the open pause with who, when and why; returns the pause (no row: nothing was paused).
-- Inputs: %(by)s (text), %(reason)s (text or NULL).
-- Re-run: safe (a second run finds no open pause).

UPDATE voice_migration.rollout_pauses
   SET resumed_at = now(), resumed_by = %(by)s, resume_reason = %(reason)s
 WHERE resumed_at IS NULL
RETURNING id, paused_at, paused_by, reason, resumed_at, resumed_by
