-- held_configs.sql — why one tenant is held on v1: its configs not in v2 shape, with their quarantine reasons.
--
-- What: one row per config of the tenant whose schema_version is not 'v2' (at most %(limit)s, by id):
--   the config id and its reasons from voice_migration.quarantine ("reason: detail", joined by "; "),
--   or 'not migrated yet' when the backfill has not reached it.
-- Inputs: %(tenant_id)s (text), %(limit)s (integer).
-- Re-run: safe (read-only).

SELECT c.id,
       coalesce(string_agg(q.reason || coalesce(': ' || q.detail, ''), '; ' ORDER BY q.reason), 'not migrated yet')
  FROM voice_agent_configs AS c
  LEFT JOIN voice_migration.quarantine AS q ON q.entity = 'config' AND q.entity_id = c.id
 WHERE c.tenant_id = %(tenant_id)s AND c.schema_version IS DISTINCT FROM 'v2'
 GROUP BY c.id
 ORDER BY c.id
 LIMIT %(limit)s
