-- history.sql — the audit trail of the rollout, newest first.
--
-- What: the latest rows of voice_agent_v2_flag_audit, optionally for one tenant only.
-- Inputs: %(limit)s (integer), %(tenant_id)s (text or NULL = every change).
-- Re-run: safe (read-only).

SELECT id, changed_at, changed_by, db_user, level, action, tenant_id, old_value, new_value, reason
  FROM voice_agent_v2_flag_audit
 WHERE %(tenant_id)s::text IS NULL OR tenant_id = %(tenant_id)s
 ORDER BY id DESC
 LIMIT %(limit)s
