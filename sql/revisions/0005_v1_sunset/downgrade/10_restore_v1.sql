-- 30_restore_v1.sql — undo the v1 sunset: bring the v1 columns and the dual-write triggers back.
--
-- What: re-adds configs prompt, voice_id, language and calls outcome, fills them from the v2 values
--       (base_prompt, voice_config) and from voice_migration.sunset_archive_calls (the v1 outcome
--       text has no v2 equivalent), then re-creates the dual-write triggers (sql/expand/40_triggers.sql
--       is run right after this file by the revision).
-- Inputs: the sunset archives.  Re-run: no.

ALTER TABLE voice_agent_configs ADD COLUMN prompt text, ADD COLUMN voice_id text, ADD COLUMN language text;
ALTER TABLE voice_agent_calls ADD COLUMN outcome text;

-- v2 is the truth since the sunset; the archived v1 spelling of the language comes back when it
-- still means the same (so an untouched row is byte-identical to its pre-sunset v1 shape).
UPDATE voice_agent_configs AS c
SET prompt = c.personality ->> 'base_prompt', voice_id = c.voice_config ->> 'voice_id',
    language = CASE WHEN voice_migration.normalize_language(a.language) = c.voice_config ->> 'language'
                    THEN a.language ELSE c.voice_config ->> 'language' END
FROM voice_migration.sunset_archive_configs AS a
WHERE a.id = c.id AND a.tenant_id IS NOT DISTINCT FROM c.tenant_id;

UPDATE voice_agent_configs AS c
SET prompt = c.personality ->> 'base_prompt', voice_id = c.voice_config ->> 'voice_id',
    language = c.voice_config ->> 'language'
WHERE c.prompt IS NULL AND c.voice_config IS NOT NULL;

UPDATE voice_agent_calls AS c SET outcome = a.outcome
FROM voice_migration.sunset_archive_calls AS a
WHERE a.id = c.id AND a.tenant_id IS NOT DISTINCT FROM c.tenant_id;

DROP TABLE voice_migration.sunset_archive_configs;
DROP TABLE voice_migration.sunset_archive_calls;
