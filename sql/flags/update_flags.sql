-- update_flags.sql — write the master switch and the rollout percentage of the single flags row.
--
-- What: updates voice_agent_v2_flags; the triggers stamp updated_at/updated_by, restart
--   step_started_at when the percentage or the switch changes, append the audit row and NOTIFY.
-- Inputs: %(enabled)s (boolean), %(percentage)s (integer 0..100; the CHECK constraint rejects others).
--   Run after lock_flags.sql and change_context.sql in the same transaction.
-- Re-run: safe (same values again only add an audit row saying so).

UPDATE voice_agent_v2_flags
   SET enabled = %(enabled)s,
       rollout_percentage = %(percentage)s
RETURNING updated_at
