-- voice_agent_configs_held_update v1 — statement trigger on voice_agent_configs that keeps the held set (issue #15).
--
-- What: AFTER UPDATE, transition tables old_rows and new_rows, FOR EACH STATEMENT, runs voice_migration.sync_held_tenants() (object
--   sync_held_tenants, whose header explains the deltas).
-- Inputs: the table and the trigger function. Installed by revision 0008_quarantine_hold (20_hold_objects.objects).
-- Locks: DROP/CREATE TRIGGER takes a short lock on the table until the revision commits (under lock_timeout).
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER).

DROP TRIGGER IF EXISTS voice_agent_configs_held_update ON public.voice_agent_configs;

CREATE TRIGGER voice_agent_configs_held_update AFTER UPDATE ON public.voice_agent_configs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.sync_held_tenants();
