-- voice_agent_v2_track_overrides v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_track_overrides, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/40_guard_functions.objects, whose comments explain the design).
--       Its REVOKE from PUBLIC is 0002's own SQL (45_guard_triggers.sql); CREATE OR REPLACE keeps it.
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_track_overrides() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    -- SECURITY DEFINER: a role allowed to write overrides need not be allowed to update the flags row.
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE public.voice_agent_v2_flags AS f
       SET override_filter = f.override_filter | added.bits
      FROM (SELECT bit_or(public.voice_agent_v2_override_bits(c.tenant_id)) AS bits FROM changed AS c) AS added
     WHERE added.bits IS NOT NULL
       AND (f.override_filter | added.bits) <> f.override_filter;
    RETURN NULL;
END
$$;
