-- is_enabled.sql — the rollout decision for one tenant, straight from the database.
--
-- What: calls voice_agent_v2_enabled (sql/objects/voice_agent_v2_enabled/): master switch, then override, then bucket.
-- Inputs: %(tenant_id)s (text).
-- Re-run: safe (read-only).

SELECT voice_agent_v2_enabled(%(tenant_id)s)
