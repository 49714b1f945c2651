-- voice_agent_configs_held_insert v1 — statement trigger on voice_agent_configs that keeps the held set (issue #15).
--
-- What: AFTER INSERT, transition table new_rows, FOR EACH STATEMENT, runs voice_migration.sync_held_tenants() (object
--   sync_held_tenants, whose header explains the deltas).
-- Inputs: the table and the trigger function. Installed by revision 0008_quarantine_hold (20_hold_objects.objects).
-- Locks: DROP/CREATE TRIGGER takes a short lock on the table until the revision commits (under lock_timeout).
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER).

DROP TRIGGER IF EXISTS voice_agent_configs_held_insert ON public.voice_agent_configs;

CREATE TRIGGER voice_agent_configs_held_insert AFTER INSERT ON public.voice_agent_configs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.sync_held_tenants();
