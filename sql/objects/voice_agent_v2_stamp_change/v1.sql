-- voice_agent_v2_stamp_change v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_stamp_change, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/40_guard_functions.objects, whose comments explain the design).
--       Its REVOKE from PUBLIC is 0002's own SQL (45_guard_triggers.sql); CREATE OR REPLACE keeps it.
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_stamp_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'voice_agent_v2_flags' AND TG_OP = 'UPDATE' THEN
        NEW.override_filter := NEW.override_filter | OLD.override_filter;  -- bits are never cleared
        IF public.voice_agent_v2_only_filter_grew(OLD, NEW) THEN
            RETURN NEW;  -- bookkeeping, not a change of the flags
        END IF;
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := public.voice_agent_v2_change_actor();
    IF TG_TABLE_NAME = 'voice_agent_v2_flags' THEN
        IF TG_OP = 'INSERT'
           OR (NEW.rollout_percentage, NEW.enabled) IS DISTINCT FROM (OLD.rollout_percentage, OLD.enabled) THEN
            NEW.step_started_at := now();
        END IF;
    END IF;
    RETURN NEW;
END
$$;
