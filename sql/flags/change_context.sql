-- change_context.sql — say who changes the flags, how and why, for the audit trigger (sql/objects/voice_agent_v2_audit_change/).
--
-- What: sets the transaction-local settings voice_agent_v2.changed_by, voice_agent_v2.action and
--   voice_agent_v2.reason, which the stamp and audit triggers read for every row written afterwards
--   in the same transaction. They vanish at commit or rollback.
-- Inputs: %(changed_by)s (text), %(action)s (text, e.g. set_percentage, rollback_total),
--   %(reason)s (text or NULL).
-- Re-run: safe (only session state).

SELECT set_config('voice_agent_v2.changed_by', %(changed_by)s, true),
       set_config('voice_agent_v2.action', %(action)s, true),
       set_config('voice_agent_v2.reason', coalesce(%(reason)s, ''), true)
