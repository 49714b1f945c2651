-- config_samples.sql — a few migrated configs, v1 columns beside their v2 columns.
--
-- What: the before/after sample `migrate --dry-run --verbose` prints: up to 3 migrated configs
--       of the tenant scope, with their v1 values (left untouched by the migration) and the v2
--       values derived from them.
-- Inputs: the tenant scope from the transaction setting voice_migration.tenant_ids = 'a,b' (empty or unset = every tenant). Needs the v2 columns.
-- Re-run: safe (read-only).

SELECT c.id,
       c.language,
       c.voice_id,
       left(c.prompt, 60),
       c.assistant_type,
       c.voice_config::text,
       c.capabilities::text,
       left(c.personality::text, 160)
FROM voice_agent_configs AS c
WHERE c.schema_version = 'v2'
  AND (nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
       OR c.tenant_id = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*')))
ORDER BY c.id
LIMIT 3
