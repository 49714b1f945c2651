-- quarantine_summary.sql — rows in quarantine, per entity and reason, in the tenant scope.
--
-- What: for the migrate summary and the dry-run report: how many configs/calls are (or, inside a
--       dry run's transaction, would be) quarantined, why, and up to 5 example ids with the
--       offending value.
-- Inputs: the tenant scope from the transaction setting voice_migration.tenant_ids = 'a,b' (empty or unset = every tenant). Needs revision 0003_v2_expand.
-- Re-run: safe (read-only).

SELECT q.entity,
       q.reason,
       count(*),
       (array_agg(q.entity_id ORDER BY q.entity_id))[1:5],
       (array_agg(coalesce(q.detail, 'NULL') ORDER BY q.entity_id))[1:5]
FROM voice_migration.quarantine AS q
WHERE nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
   OR q.tenant_id = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*'))
GROUP BY q.entity, q.reason
ORDER BY q.entity, count(*) DESC, q.reason
