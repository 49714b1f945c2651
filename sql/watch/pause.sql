-- pause.sql — pause the rollout watcher after its automatic rollback.
--
-- What: opens a pause (voice_migration.rollout_pauses); while it is open the watcher neither advances nor
--   rolls back. Runs in the rollback's transaction, so the rollback and the pause commit together.
-- Inputs: %(by)s, %(reason)s, %(evaluation_id)s, %(audit_id)s.
-- Re-run: fails while a pause is open (rollout_pauses_one_open): one pause at a time.

INSERT INTO voice_migration.rollout_pauses (paused_by, reason, evaluation_id, audit_id)
VALUES (%(by)s, %(reason)s, %(evaluation_id)s, %(audit_id)s)
RETURNING id, paused_at
