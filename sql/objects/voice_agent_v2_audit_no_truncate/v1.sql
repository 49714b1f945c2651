-- voice_agent_v2_audit_no_truncate v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the trigger voice_agent_v2_audit_no_truncate on voice_agent_v2_flag_audit, exactly as
--       revision 0002_v2_flags creates it (sql/revisions/0002_v2_flags/45_guard_triggers.sql, plain CREATE TRIGGER).
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the table until the revision commits (under lock_timeout);
--        install triggers last in a revision.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER, in the revision's transaction).

DROP TRIGGER IF EXISTS voice_agent_v2_audit_no_truncate ON voice_agent_v2_flag_audit;

CREATE TRIGGER voice_agent_v2_audit_no_truncate BEFORE TRUNCATE ON voice_agent_v2_flag_audit
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change('the flag audit is append-only');
