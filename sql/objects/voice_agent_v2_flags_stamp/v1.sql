-- voice_agent_v2_flags_stamp v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the trigger voice_agent_v2_flags_stamp on voice_agent_v2_flags, exactly as
--       revision 0002_v2_flags creates it (sql/revisions/0002_v2_flags/45_guard_triggers.sql, plain CREATE TRIGGER).
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the table until the revision commits (under lock_timeout);
--        install triggers last in a revision.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER, in the revision's transaction).

DROP TRIGGER IF EXISTS voice_agent_v2_flags_stamp ON voice_agent_v2_flags;

CREATE TRIGGER voice_agent_v2_flags_stamp BEFORE INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_stamp_change();
