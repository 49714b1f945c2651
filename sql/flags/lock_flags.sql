-- lock_flags.sql — read the flags row and lock it for the rest of the transaction.
--
-- What: SELECT ... FOR UPDATE on the single flags row, so that concurrent flag changes (two operators,
--   a rollback racing an advance) run one after the other and each sees, validates against and audits
--   the value the previous one committed. Plain readers (voice_agent_v2_enabled, caches) never wait.
--   Also returns the database clock, which the hold-time check of `rollout advance` compares against.
-- Inputs: none. Runs inside the transaction that will write the change (voice_migration.rollout.state).
-- Re-run: safe (read-only apart from the row lock, released at commit or rollback).

SELECT enabled, rollout_percentage, updated_at, updated_by, step_started_at, now() AS database_now
  FROM voice_agent_v2_flags
   FOR UPDATE
