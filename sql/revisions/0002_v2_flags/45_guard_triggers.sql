-- 45_guard_triggers.sql — the triggers that stamp, audit, notify and refuse on the flag tables; the first flags row.
--
-- What: creates the triggers on voice_agent_v2_flags, voice_agent_v2_tenant_overrides and voice_agent_v2_flag_audit
--       that call the functions of 40_guard_functions.objects (whose comments explain the design), revokes EXECUTE
--       on the trigger functions from PUBLIC, and inserts the single flags row, disabled at 0 %, audited as
--       the rollout's first entry. The triggers are also replaceable objects (sql/objects/<trigger>/v1.sql).
-- Inputs: the flag tables (20_tables.sql) and the guard functions. Run by revision 0002_v2_flags last.
-- Re-run: not safe (CREATE TRIGGER, INSERT of the single row).

CREATE TRIGGER voice_agent_v2_flags_stamp BEFORE INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_stamp_change();
CREATE TRIGGER voice_agent_v2_flags_audit AFTER INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_audit_change();
CREATE TRIGGER voice_agent_v2_flags_notify AFTER INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_notify_change();
CREATE TRIGGER voice_agent_v2_flags_keep_row BEFORE DELETE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_refuse_change(
        'the single flags row must stay; turn v2 off with `voice-migration rollback --level total --reason ...`');
CREATE TRIGGER voice_agent_v2_flags_no_truncate BEFORE TRUNCATE ON voice_agent_v2_flags
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change(
        'the single flags row must stay; turn v2 off with `voice-migration rollback --level total --reason ...`');

CREATE TRIGGER voice_agent_v2_overrides_stamp BEFORE INSERT OR UPDATE ON voice_agent_v2_tenant_overrides
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_stamp_change();
CREATE TRIGGER voice_agent_v2_overrides_audit AFTER INSERT OR UPDATE OR DELETE ON voice_agent_v2_tenant_overrides
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_audit_change();
CREATE TRIGGER voice_agent_v2_overrides_notify AFTER INSERT OR UPDATE OR DELETE ON voice_agent_v2_tenant_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_notify_change();
-- Two triggers: a transition table belongs to one event.
CREATE TRIGGER voice_agent_v2_overrides_track_insert AFTER INSERT ON voice_agent_v2_tenant_overrides
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_track_overrides();
CREATE TRIGGER voice_agent_v2_overrides_track_update AFTER UPDATE ON voice_agent_v2_tenant_overrides
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_track_overrides();
CREATE TRIGGER voice_agent_v2_overrides_no_truncate BEFORE TRUNCATE ON voice_agent_v2_tenant_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change(
        'delete the rows instead (`voice-migration rollout clear-tenant`), so that each removal is audited');

CREATE TRIGGER voice_agent_v2_audit_append_only BEFORE UPDATE OR DELETE ON voice_agent_v2_flag_audit
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_refuse_change('the flag audit is append-only');
CREATE TRIGGER voice_agent_v2_audit_no_truncate BEFORE TRUNCATE ON voice_agent_v2_flag_audit
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change('the flag audit is append-only');

-- voice_agent_v2_change_actor() and voice_agent_v2_only_filter_grew() stay executable by PUBLIC: the
-- stamp triggers run with the writer's rights and call them; the first only reads the writer's own
-- session settings, the second compares two rows it is given.
REVOKE ALL ON FUNCTION
    voice_agent_v2_stamp_change(),
    voice_agent_v2_audit_change(),
    voice_agent_v2_notify_change(),
    voice_agent_v2_track_overrides(),
    voice_agent_v2_refuse_change()
FROM PUBLIC;

-- The single row, created disabled at 0 %; audited as the rollout's first entry.
SELECT set_config('voice_agent_v2.changed_by', 'alembic 0002_v2_flags', true),
       set_config('voice_agent_v2.action', 'install', true);
INSERT INTO voice_agent_v2_flags (enabled, rollout_percentage) VALUES (false, 0);
