-- bare_configs.sql — the bare-SQL limit's configs transform: one UPDATE over every config.
--
-- What: the v2 values of every config that can be derived, from the project's own
--       voice_migration.derive_configs over the whole table at once (no batches, no progress row,
--       no quarantine bookkeeping); the dual-write trigger is skipped the way the backfill skips it.
-- Inputs: a database at Alembic head whose backfill has not run.
-- Re-run: safe (only rows still in v1 shape are written).

SELECT set_config('voice_migration.backfill', 'on', true);

UPDATE voice_agent_configs AS c
SET assistant_type = d.assistant_type, voice_config = d.voice_config, personality = d.personality,
    capabilities = d.capabilities, schema_version = 'v2', migrated_at = now(), migrated_from = 'v1'
FROM voice_migration.derive_configs(ARRAY(SELECT x FROM voice_agent_configs AS x)) AS d
WHERE c.id = d.id AND c.tenant_id IS NOT DISTINCT FROM d.tenant_id
  AND c.schema_version IS NULL AND cardinality(d.reasons) = 0;
