-- configs_dual_write v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.configs_dual_write, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/90_triggers.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.configs_dual_write()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    d         record;
    v2_write  boolean;
    was_v2    boolean := TG_OP = 'UPDATE' AND OLD.voice_config IS NOT NULL;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v2_write := NEW.voice_config IS NOT NULL OR NEW.personality IS NOT NULL;
    ELSE
        v2_write := NEW.voice_config IS DISTINCT FROM OLD.voice_config
                    OR NEW.personality IS DISTINCT FROM OLD.personality;
        IF NOT v2_write
           AND (NEW.prompt, NEW.voice_id, NEW.language, NEW.name, NEW.enabled, NEW.tenant_id)
               IS NOT DISTINCT FROM
               (OLD.prompt, OLD.voice_id, OLD.language, OLD.name, OLD.enabled, OLD.tenant_id) THEN
            RETURN NEW;                  -- neither shape's synced columns changed
        END IF;
    END IF;

    IF v2_write THEN
        -- v2 -> v1: copy what the v2 writer changed (everything, when the row enters v2 shape).
        IF NEW.voice_config ? 'voice_id' AND (NOT was_v2
               OR NEW.voice_config ->> 'voice_id' IS DISTINCT FROM OLD.voice_config ->> 'voice_id') THEN
            NEW.voice_id := NEW.voice_config ->> 'voice_id';
        END IF;
        IF NEW.voice_config ? 'language' AND (NOT was_v2
               OR NEW.voice_config ->> 'language' IS DISTINCT FROM OLD.voice_config ->> 'language') THEN
            NEW.language := NEW.voice_config ->> 'language';
        END IF;
        IF NEW.personality ? 'base_prompt' AND (TG_OP = 'INSERT' OR OLD.personality IS NULL
               OR NEW.personality ->> 'base_prompt' IS DISTINCT FROM OLD.personality ->> 'base_prompt') THEN
            NEW.prompt := NEW.personality ->> 'base_prompt';
        END IF;
        IF NEW.assistant_type IS NULL OR NEW.capabilities IS NULL
           OR NEW.voice_config IS NULL OR NEW.personality IS NULL THEN
            SELECT * INTO d FROM voice_migration.derive_configs(ARRAY[NEW]);
            NEW.assistant_type := coalesce(NEW.assistant_type, d.assistant_type);
            NEW.voice_config := coalesce(NEW.voice_config, d.voice_config);
            NEW.personality := coalesce(NEW.personality, d.personality);
            NEW.capabilities := coalesce(NEW.capabilities, d.capabilities);
        END IF;
        NEW.schema_version := 'v2';
        DELETE FROM voice_migration.quarantine AS q WHERE q.entity = 'config' AND q.entity_id = NEW.id;
        RETURN NEW;
    END IF;

    -- v1 -> v2, with the backfill's derivation.
    SELECT * INTO d FROM voice_migration.derive_configs(ARRAY[NEW]);
    IF cardinality(d.reasons) = 0 THEN
        d.voice_config := coalesce(NEW.voice_config, '{}'::jsonb) || d.voice_config;
        d.personality := (coalesce(NEW.personality, '{}'::jsonb)
                          - ARRAY['base_prompt', 'special_instructions', 'greeting_message', 'farewell_message'])
                         || d.personality;
        IF (NEW.assistant_type, NEW.voice_config, NEW.personality, NEW.capabilities, NEW.schema_version)
           IS DISTINCT FROM (d.assistant_type, d.voice_config, d.personality, d.capabilities, 'v2') THEN
            NEW.assistant_type := d.assistant_type;
            NEW.voice_config := d.voice_config;
            NEW.personality := d.personality;
            NEW.capabilities := d.capabilities;
            NEW.schema_version := 'v2';
            NEW.migrated_at := now();
            NEW.migrated_from := 'v1';
        END IF;
        DELETE FROM voice_migration.quarantine AS q WHERE q.entity = 'config' AND q.entity_id = NEW.id;
    ELSE
        -- original_row still carries the v2 values the row had: nothing is lost by the reset.
        INSERT INTO voice_migration.quarantine AS q (entity, entity_id, tenant_id, reason, detail, original_row)
        SELECT 'config', NEW.id, NEW.tenant_id, x.reason, x.detail, to_jsonb(NEW)
        FROM unnest(d.reasons, d.details) AS x (reason, detail)
        ON CONFLICT (entity, entity_id, reason) DO UPDATE
        SET tenant_id = excluded.tenant_id, detail = excluded.detail, original_row = excluded.original_row,
            quarantined_at = now();
        DELETE FROM voice_migration.quarantine AS q
        WHERE q.entity = 'config' AND q.entity_id = NEW.id AND q.reason <> ALL (d.reasons);
        NEW.assistant_type := NULL;
        NEW.voice_config := NULL;
        NEW.personality := NULL;
        NEW.capabilities := NULL;
        NEW.schema_version := NULL;
        NEW.migrated_at := NULL;
        NEW.migrated_from := NULL;
    END IF;
    RETURN NEW;
END
$$;
