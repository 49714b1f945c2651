-- restore_v2_tenants.sql — which tenants of a backup's scope v2 serves now, and what the restore would put in v1 shape.
--
-- What: one row: (1) the ids of the tenants in the scope that public.voice_agent_v2_enabled serves v2 now,
--       sorted; (2) those of them with a backed-up config not in v2 shape (schema_version not 'v2', or no
--       schema_version column at all: a backup taken before revision 0003) — the restore would hand v2
--       a config it cannot read; (3) how many backed-up configs are not in v2 shape. A data restore is
--       refused when (2) is not empty (voice_migration/migration/restore.py); (1) is the restore's report.
--       pg_catalog.to_jsonb reads schema_version whether or not the backup has that column.
-- Inputs: template placeholder {backup_configs} (the backup's copy of voice_agent_configs, a quoted
--         identifier); the scope comes from the transaction setting voice_migration.tenant_ids = 'a,b'
--         (empty or unset = every tenant). Needs voice_agent_v2_enabled (revision 0002 on).
-- Re-run: safe (read-only).

WITH on_v2 AS (
    SELECT t.id
      FROM public.tenants AS t
     WHERE (nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
            OR t.id = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*')))
       AND public.voice_agent_v2_enabled(t.id)
), v1_shape AS (
    SELECT b.tenant_id
      FROM {backup_configs} AS b
     WHERE pg_catalog.to_jsonb(b) ->> 'schema_version' IS DISTINCT FROM 'v2'
)
SELECT coalesce((SELECT array_agg(o.id ORDER BY o.id) FROM on_v2 AS o), ARRAY[]::text[]),
       coalesce((SELECT array_agg(o.id ORDER BY o.id) FROM on_v2 AS o
                  WHERE o.id IN (SELECT v.tenant_id FROM v1_shape AS v)), ARRAY[]::text[]),
       (SELECT count(*) FROM v1_shape)
