-- upsert_override.sql — force one tenant into v2 (true) or keep it on v1 (false), whatever its bucket.
--
-- What: inserts or replaces the tenant's row in voice_agent_v2_tenant_overrides; the triggers stamp,
--   audit (old and new value) and NOTIFY. The master switch still wins (voice_agent_v2_enabled).
-- Inputs: %(tenant_id)s (text), %(enabled)s (boolean), %(reason)s (text or NULL).
--   Run after lock_flags.sql and change_context.sql in the same transaction.
-- Re-run: safe (idempotent; each run adds an audit row).

INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled, reason)
VALUES (%(tenant_id)s, %(enabled)s, %(reason)s)
    ON CONFLICT (tenant_id) DO UPDATE
   SET enabled = EXCLUDED.enabled,
       reason = EXCLUDED.reason
RETURNING updated_at
