-- voice_agent_v2_only_filter_grew v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_only_filter_grew, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/40_guard_functions.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

-- True when an UPDATE of the flags row only added override-filter bits: bookkeeping, which the stamp
-- and audit triggers both leave alone (one definition, so the two cannot disagree).
CREATE OR REPLACE FUNCTION voice_agent_v2_only_filter_grew(
    old_row voice_agent_v2_flags, new_row voice_agent_v2_flags) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (new_row.enabled, new_row.rollout_percentage)
               IS NOT DISTINCT FROM (old_row.enabled, old_row.rollout_percentage)
       AND new_row.override_filter <> old_row.override_filter
$$;
