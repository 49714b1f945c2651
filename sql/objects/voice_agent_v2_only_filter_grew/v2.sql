-- voice_agent_v2_only_filter_grew v2 — a change of either filter of the flags row is bookkeeping (issue #15).
--
-- What: true when an UPDATE of the flags row changed neither the master switch nor the percentage, only
--   the override filter (bits added) and/or the held filter (voice_agent_v2_flags.held_filter, kept by
--   voice_migration.refresh_held_filter since revision 0008_quarantine_hold). The stamp and audit triggers
--   both leave such an update alone: no audit row, no updated_at/updated_by, no new step_started_at.
--   v1 (release 0.1) knew only the override filter; a held-filter update would have been audited as an
--   'sql' change of the flags by the table owner.
-- Inputs: the flags table with its held_filter column. Installed by revision 0008_quarantine_hold; its
--   downgrade reinstalls v1 before dropping the column.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_agent_v2_only_filter_grew(
    old_row voice_agent_v2_flags, new_row voice_agent_v2_flags) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (new_row.enabled, new_row.rollout_percentage)
               IS NOT DISTINCT FROM (old_row.enabled, old_row.rollout_percentage)
       AND (new_row.override_filter <> old_row.override_filter
            OR new_row.held_filter IS DISTINCT FROM old_row.held_filter)
$$;
