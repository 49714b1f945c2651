-- simulated_damage.sql — the demo's "bad deploy": one tenant's prompts overwritten by mistake.
--
-- What: sets the prompt of every config of tenant %(tenant_id)s to a placeholder text, the kind of
--       damage a data rollback (`voice-migration rollback --level data`) exists for, and returns how
--       many configs it changed. A v1 write: the dual-write trigger recomputes their v2 columns too.
--       Only `voice-migration demo` runs this; it says so.
-- Inputs: %(tenant_id)s, %(placeholder)s (the text written).
-- Re-run: safe (the same text again).

WITH damaged AS (
    UPDATE voice_agent_configs
       SET prompt = %(placeholder)s, updated_at = now()
     WHERE tenant_id = %(tenant_id)s
    RETURNING id
)
SELECT count(*) FROM damaged
