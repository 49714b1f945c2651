-- latest_audit.sql — the newest flag audit id: overall, and of the watcher's own global changes.
--
-- What: one row (newest id, newest id of a global change by %(by)s). Read inside the watcher's action
--   transaction, after the flags row is locked: the first tells whether anything changed since the
--   evaluation read the audit, the second is the audit row of the change the watcher just made.
-- Inputs: %(by)s (text).
-- Re-run: safe (read-only).

SELECT (SELECT max(id) FROM public.voice_agent_v2_flag_audit) AS newest,
       (SELECT max(id) FROM public.voice_agent_v2_flag_audit WHERE changed_by = %(by)s AND level = 'global') AS own
