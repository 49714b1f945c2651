-- load_update_config.sql — the v1 application edits a config through v1 columns (name, enabled).
-- Inputs: id, k (a counter that varies the values).  Re-run: safe.
UPDATE voice_agent_configs
SET name = 'Agent ' || %(k)s::int, enabled = %(k)s::int %% 3 <> 0, updated_at = now()
WHERE id = %(id)s
