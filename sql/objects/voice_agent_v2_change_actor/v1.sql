-- voice_agent_v2_change_actor v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_change_actor, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/40_guard_functions.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_change_actor() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(nullif(current_setting('voice_agent_v2.changed_by', true), ''), session_user::text)
$$;
