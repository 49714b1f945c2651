-- voice_agent_v2_refuse_change v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_refuse_change, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/40_guard_functions.objects, whose comments explain the design).
--       Its REVOKE from PUBLIC is 0002's own SQL (45_guard_triggers.sql); CREATE OR REPLACE keeps it.
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$;
