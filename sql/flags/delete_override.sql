-- delete_override.sql — remove a tenant's override, so its bucket decides again.
--
-- What: deletes the tenant's row from voice_agent_v2_tenant_overrides (audited and notified by trigger).
-- Inputs: %(tenant_id)s (text). Run after lock_flags.sql and change_context.sql in the same transaction.
-- Re-run: safe (a second run deletes nothing).

DELETE FROM voice_agent_v2_tenant_overrides
 WHERE tenant_id = %(tenant_id)s
RETURNING enabled
