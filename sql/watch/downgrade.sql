-- downgrade.sql — remove the rollout watch's evaluations and pauses (downgrade of 0011_rollout_watch).
--
-- What: drops voice_migration.rollout_pauses and voice_migration.rollout_evaluations. Their content is
--   the watcher's own record; the flag changes it made stay in voice_agent_v2_flag_audit (actor
--   rollout-watch, the evidence in the reason), so nothing about the rollout itself is lost.
-- Inputs: none.
-- Re-run: safe (IF EXISTS).

DROP TABLE IF EXISTS voice_migration.rollout_pauses;
DROP TABLE IF EXISTS voice_migration.rollout_evaluations;
