-- voice_agent_v2_overrides_notify v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the trigger voice_agent_v2_overrides_notify on voice_agent_v2_tenant_overrides, exactly as
--       revision 0002_v2_flags creates it (sql/revisions/0002_v2_flags/45_guard_triggers.sql, plain CREATE TRIGGER).
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the table until the revision commits (under lock_timeout);
--        install triggers last in a revision.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER, in the revision's transaction).

DROP TRIGGER IF EXISTS voice_agent_v2_overrides_notify ON voice_agent_v2_tenant_overrides;

CREATE TRIGGER voice_agent_v2_overrides_notify AFTER INSERT OR UPDATE OR DELETE ON voice_agent_v2_tenant_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_notify_change();
