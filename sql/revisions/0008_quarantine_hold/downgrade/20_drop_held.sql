-- downgrade/20_drop_held.sql — remove the held-tenants set and its triggers (downgrade of 0008_quarantine_hold).
--
-- What: drops the four triggers on voice_agent_configs, voice_migration.sync_held_tenants(),
--   voice_migration.refresh_held_tenants(text[]), voice_migration.refresh_held_filter(),
--   public.voice_agent_v2_held_tenants and the column voice_agent_v2_flags.held_filter. Nothing is
--   archived: the set is derived from the configs and 0008 recomputes it. 10_decision_v1.objects has
--   already put back the 0.1 functions that read neither the set nor the column.
-- Inputs: none.
-- Re-run: safe (IF EXISTS).

DROP TRIGGER IF EXISTS voice_agent_configs_held_insert ON public.voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_held_update ON public.voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_held_delete ON public.voice_agent_configs;
DROP TRIGGER IF EXISTS voice_agent_configs_held_truncate ON public.voice_agent_configs;
DROP FUNCTION IF EXISTS voice_migration.sync_held_tenants();
DROP FUNCTION IF EXISTS voice_migration.refresh_held_tenants(text[]);
DROP FUNCTION IF EXISTS voice_migration.refresh_held_filter();
DROP TABLE IF EXISTS public.voice_agent_v2_held_tenants;
ALTER TABLE public.voice_agent_v2_flags DROP COLUMN IF EXISTS held_filter;
