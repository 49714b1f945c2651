-- 10_archive_v2.sql — keep a copy of every v2 value before the downgrade drops the v2 columns.
--
-- What: appends, stamped with archived_at, the v2 columns of every config and call that has any,
--       and every voice_agent_metrics row, to voice_migration.downgrade_archive_configs /
--       downgrade_archive_calls / downgrade_archive_metrics (created when missing), then reports the
--       counts with a NOTICE (psql prints it; the revision prints it too).
-- Inputs: the v2 columns and voice_agent_metrics (revision 0003_v2_expand).
-- Re-run: safe; each run appends a new archived_at generation (nothing is overwritten).
-- Restore: UPDATE voice_agent_configs c SET voice_config = a.voice_config, ... FROM
--          voice_migration.downgrade_archive_configs a WHERE a.id = c.id AND a.tenant_id IS NOT
--          DISTINCT FROM c.tenant_id AND a.archived_at = (the generation wanted), after an upgrade.

CREATE TABLE IF NOT EXISTS voice_migration.downgrade_archive_configs (
    archived_at    timestamptz NOT NULL,
    id             text NOT NULL,
    tenant_id      text,
    assistant_type text,
    voice_config   jsonb,
    personality    jsonb,
    capabilities   text[],
    schema_version text,
    migrated_at    timestamptz,
    migrated_from  text
);

CREATE TABLE IF NOT EXISTS voice_migration.downgrade_archive_calls (
    archived_at    timestamptz NOT NULL,
    id             text NOT NULL,
    tenant_id      text,
    outcome_code   text,
    outcome_source text
);

CREATE TABLE IF NOT EXISTS voice_migration.downgrade_archive_metrics (
    archived_at timestamptz NOT NULL,
    LIKE voice_agent_metrics
);

INSERT INTO voice_migration.downgrade_archive_configs
SELECT now(), id, tenant_id, assistant_type, voice_config, personality, capabilities,
       schema_version, migrated_at, migrated_from
FROM voice_agent_configs
WHERE num_nonnulls(assistant_type, voice_config, personality, capabilities, schema_version,
                   migrated_at, migrated_from) > 0;

INSERT INTO voice_migration.downgrade_archive_calls
SELECT now(), id, tenant_id, outcome_code, outcome_source
FROM voice_agent_calls
WHERE num_nonnulls(outcome_code, outcome_source) > 0;

INSERT INTO voice_migration.downgrade_archive_metrics SELECT now(), m.* FROM voice_agent_metrics AS m;

DO $$
BEGIN
    RAISE NOTICE 'v2 data archived before the downgrade: % configs in voice_migration.downgrade_archive_configs, % calls in voice_migration.downgrade_archive_calls, % metrics rows in voice_migration.downgrade_archive_metrics (archived_at = %)',
        (SELECT count(*) FROM voice_migration.downgrade_archive_configs WHERE archived_at = now()),
        (SELECT count(*) FROM voice_migration.downgrade_archive_calls WHERE archived_at = now()),
        (SELECT count(*) FROM voice_migration.downgrade_archive_metrics WHERE archived_at = now()),
        now();
END
$$;
