-- check: v1_v2_consistency
-- severity: critical
-- what: the two shapes of every migrated config agree (no dual-write drift): voice_config.voice_id
--       equals the v1 voice_id, voice_config.language equals the v1 language as the transform normalises
--       it (voice_migration.normalize_language), personality.base_prompt equals the v1 prompt. These are
--       the values the dual-write triggers keep in step (DESIGN.md section 2); name and enabled are one
--       column shared by both shapes, and the other v2 values (speed, pitch, capabilities, instructions)
--       may be edited in v2 alone, so they are not compared. Calls are not compared either: a v2 writer
--       sets outcome_code itself and nothing copies it back to v1.
-- failure means: a write reached one shape and not the other (a trigger was disabled, or a session ran
--       with session_replication_role = replica): v1 and v2 readers see different agents, and a rollback
--       to v1 would lose the v2 side. `voice-migration validate --fix` recomputes the v2 values from v1
--       with the transform's function (sql/fix/drifted_v2_columns.sql).
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
languages AS MATERIALIZED (
    -- normalize_language once per distinct spelling (MATERIALIZED: inlined, it ran once per join pair)
    SELECT l.language, voice_migration.normalize_language(l.language) AS bcp47
    FROM (SELECT DISTINCT c.language FROM voice_agent_configs AS c WHERE c.schema_version = 'v2') AS l
),
configs AS (
    SELECT c.id, c.tenant_id,
           concat_ws('; ',
               CASE WHEN c.voice_config ->> 'voice_id' IS DISTINCT FROM c.voice_id
                    THEN format('voice_config.voice_id %L but v1 voice_id %L', c.voice_config ->> 'voice_id',
                                c.voice_id) END,
               CASE WHEN c.voice_config ->> 'language' IS DISTINCT FROM l.bcp47
                    THEN format('voice_config.language %L but v1 language %L normalises to %L',
                                c.voice_config ->> 'language', c.language, l.bcp47) END,
               CASE WHEN c.personality ->> 'base_prompt' IS DISTINCT FROM c.prompt
                    THEN format('personality.base_prompt (%s chars) differs from the v1 prompt (%s chars)',
                                length(c.personality ->> 'base_prompt'), length(c.prompt)) END) AS drift
    FROM voice_agent_configs AS c
    CROSS JOIN scope AS s
    LEFT JOIN languages AS l ON l.language IS NOT DISTINCT FROM c.language
    WHERE c.schema_version = 'v2'
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
)
SELECT 'v1_v2_consistency' AS check_name, 'critical' AS severity, 'config' AS entity, c.id, c.tenant_id,
       c.drift AS detail
FROM configs AS c
WHERE c.drift <> '';
