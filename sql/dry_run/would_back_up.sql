-- would_back_up.sql — the manifest row the migration's backup would record, in the dry run's copy.
--
-- What: counts the tenants, configs, calls and metrics of the tenant scope in the private copies and
--       records them as a 'migrate' backup in pg_temp.backups (no rows are copied: the dry run never
--       takes the backup, it only shows its size), so that verification's record_counts compares the
--       rehearsed result with the counts a real backup would have recorded. Returns the counts.
-- Inputs: the tenant scope from the transaction setting voice_migration.tenant_ids = 'a,b' (empty or
--         unset = every tenant); %(revision)s, the database's Alembic revision.
-- Re-run: no (one manifest row per dry run, rolled back with it).
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
counted AS (
    SELECT s.ids,
           (SELECT count(*) FROM pg_temp.tenants AS t WHERE s.ids IS NULL OR t.id = ANY (s.ids)) AS tenants,
           (SELECT count(*) FROM pg_temp.voice_agent_configs AS c
            WHERE s.ids IS NULL OR c.tenant_id = ANY (s.ids)) AS configs,
           (SELECT count(*) FROM pg_temp.voice_agent_calls AS k
            WHERE s.ids IS NULL OR k.tenant_id = ANY (s.ids)) AS calls
    FROM scope AS s
),
recorded AS (
    INSERT INTO pg_temp.backups (backup_id, kind, alembic_revision, tenant_ids, tenants_count,
                                 configs_count, calls_count, metrics_count, checksums, size_bytes, note)
    SELECT 'backup_' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MISS'), 'migrate',
           %(revision)s, c.ids, c.tenants, c.configs, c.calls, NULL, '{}'::jsonb, 0, 'dry run'
    FROM counted AS c
    RETURNING 1
)
SELECT c.tenants, c.configs, c.calls, (SELECT count(*) FROM recorded) FROM counted AS c
