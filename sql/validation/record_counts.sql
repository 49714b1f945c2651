-- check: record_counts
-- severity: critical
-- what: nothing was lost: the configs and calls in scope are at least as many as the latest backup of
--       the same scope recorded (voice_migration.backups: configs_count, calls_count).
-- failure means: rows that existed when the backup was taken are gone (a migration, restore or script
--       deleted them). Restore them from that backup (`voice-migration rollback --level data`) or explain
--       the deletion. More rows than the backup is fine: the application keeps writing during an online
--       migration. With no backup of this scope the counts cannot be compared: one low row says so
--       (`voice-migration backups create` takes one). A backup of scope 'a,b' is compared only with
--       validation of exactly the tenants a and b; a full backup only with validation of every tenant.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head (voice_migration.backups).
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
latest AS (
    SELECT b.backup_id, b.created_at, b.configs_count, b.calls_count
    FROM voice_migration.backups AS b, scope AS s
    WHERE (s.ids IS NULL AND b.tenant_ids IS NULL)
       OR (b.tenant_ids @> s.ids AND b.tenant_ids <@ s.ids)
    ORDER BY b.created_at DESC, b.backup_id DESC
    LIMIT 1
),
current_counts AS (
    SELECT (SELECT count(*) FROM voice_agent_configs AS c
            WHERE s.ids IS NULL OR c.tenant_id = ANY (s.ids)) AS configs,
           (SELECT count(*) FROM voice_agent_calls AS k
            WHERE s.ids IS NULL OR k.tenant_id = ANY (s.ids)) AS calls
    FROM scope AS s
)
SELECT 'record_counts' AS check_name, 'critical' AS severity, x.entity, l.backup_id AS id,
       NULL::text AS tenant_id,
       format('%s rows now, %s in backup %s of %s: %s rows lost', x.now_count, x.backup_count, l.backup_id,
              to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
              x.backup_count - x.now_count) AS detail
FROM latest AS l
CROSS JOIN current_counts AS n
CROSS JOIN LATERAL (VALUES ('voice_agent_configs', n.configs, l.configs_count),
                           ('voice_agent_calls', n.calls, l.calls_count)) AS x (entity, now_count, backup_count)
WHERE x.now_count < x.backup_count
UNION ALL
SELECT 'record_counts', 'low', 'backup', NULL, NULL,
       'no backup of this tenant scope in voice_migration.backups: counts not compared; '
       'take one with `voice-migration backups create` before migrating'
WHERE NOT EXISTS (SELECT FROM latest);
