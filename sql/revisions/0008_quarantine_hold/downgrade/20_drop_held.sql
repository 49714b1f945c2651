-- downgrade/20_drop_held.sql — remove the held-tenants set and its triggers (downgrade of 0008_quarantine_hold).
--
-- What: drops the four triggers on voice_agent_configs, voice_migration.sync_held_tenants(),
--   voice_migration.refresh_held_tenants(text[]) and public.voice_agent_v2_held_tenants. Nothing is
--   archived: the set is derived from the configs and 0008 recomputes it. The revision then installs
--   voice_agent_v2_enabled v1 (objects/voice_agent_v2_enabled/v1.sql), which does not read the set.
-- Inputs: none.
-- Re-run: safe (IF EXISTS).

DROP TRIGGER IF EXISTS voice_agent_configs_held_insert ON public.voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_held_update ON public.voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_held_delete ON public.voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_held_truncate ON public.voice_agent_configs;
DROP FUNCTION IF EXISTS voice_migration.sync_held_tenants();
DROP FUNCTION IF EXISTS voice_migration.refresh_held_tenants(text[]);
DROP TABLE IF EXISTS public.voice_agent_v2_held_tenants;
