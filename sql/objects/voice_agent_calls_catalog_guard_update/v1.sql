-- voice_agent_calls_catalog_guard_update v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the trigger voice_agent_calls_catalog_guard_update on voice_agent_calls, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/90_triggers.objects, whose comments explain the design).
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the table until the revision commits (under lock_timeout);
--        install triggers last in a revision.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER, in the revision's transaction).

DROP TRIGGER IF EXISTS voice_agent_calls_catalog_guard_update ON voice_agent_calls;

CREATE TRIGGER voice_agent_calls_catalog_guard_update
    AFTER UPDATE ON voice_agent_calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.calls_catalog_guard();
