-- 40_triggers.sql — dual-write triggers (v1 <-> v2, DESIGN.md section 2) and catalog guards.
--
-- What: configs_dual_write / calls_dual_write (BEFORE INSERT OR UPDATE, per row):
--         * a v1 write (INSERT without v2 values, or an UPDATE that changes prompt, voice_id,
--           language, name, enabled or tenant_id of a config; outcome of a call, or status,
--           ended_reason, transcript, duration_seconds of a call with an inferred outcome) recomputes the v2 columns with the very
--           functions the backfill uses (derive_configs / derive_call_outcomes on ARRAY[NEW]);
--           v2-only keys (voice_config speed/pitch, other personality keys) are kept. A config
--           that can no longer be derived goes back to v1 shape and into quarantine (its previous
--           v2 values are kept in quarantine.original_row); one that can is released.
--         * a v2 write (voice_config or personality changed) copies voice_id, language and
--           base_prompt that changed back to the v1 columns, so a rollback to v1 loses nothing.
--           When one statement changes both shapes, the v2 values win.
--         BEFORE triggers only edit NEW: nothing is written twice and nothing recurses. They do not
--         run for the backfill's own writes (transaction setting voice_migration.backfill = on).
--       *_catalog_guard (AFTER, per statement, over the transition table): rejects capabilities
--         and outcome codes missing from their catalog, once per statement (a foreign key would
--         cost one lookup and one row lock per row: too slow for the backfill).
--       catalog_keep_codes: catalog codes cannot be deleted or renamed (data refers to them).
-- Inputs: the transform functions (sql/transform).  Re-run: safe (CREATE OR REPLACE / DROP IF EXISTS).
-- Locks: CREATE TRIGGER takes a short SHARE ROW EXCLUSIVE lock per table (bounded by lock_timeout).

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

CREATE OR REPLACE FUNCTION voice_migration.calls_dual_write()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.outcome_code IS DISTINCT FROM OLD.outcome_code AND NEW.outcome_code IS NOT NULL THEN
        -- a v2 writer set the outcome itself: keep it
        IF NEW.outcome_source IS NOT DISTINCT FROM OLD.outcome_source OR NEW.outcome_source IS NULL THEN
            NEW.outcome_source := 'manual';
        END IF;
    ELSIF TG_OP = 'INSERT' AND NEW.outcome_code IS NOT NULL THEN
        NEW.outcome_source := coalesce(NEW.outcome_source, 'manual');
    ELSIF TG_OP = 'INSERT' OR NEW.outcome_code IS NULL OR NEW.outcome IS DISTINCT FROM OLD.outcome
          -- a manual outcome outranks inference (DESIGN.md section 4): only an inferred one follows
          -- changes of status, ended_reason, transcript or duration
          OR (NEW.outcome_source = 'inferred'
              AND (NEW.status, NEW.ended_reason, NEW.transcript, NEW.duration_seconds)
                  IS DISTINCT FROM (OLD.status, OLD.ended_reason, OLD.transcript, OLD.duration_seconds)) THEN
        SELECT d.outcome_code, d.outcome_source INTO NEW.outcome_code, NEW.outcome_source
        FROM voice_migration.derive_call_outcomes(ARRAY[NEW]) AS d;
    END IF;

    IF TG_OP = 'INSERT' OR (NEW.id, NEW.tenant_id, NEW.config_id) IS DISTINCT FROM (OLD.id, OLD.tenant_id, OLD.config_id) THEN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM voice_migration.quarantine AS q WHERE q.entity = 'call' AND q.entity_id = OLD.id;
        END IF;
        INSERT INTO voice_migration.quarantine AS q (entity, entity_id, tenant_id, reason, detail, original_row)
        SELECT 'call', NEW.id, NEW.tenant_id, x.reason, x.detail, to_jsonb(NEW)
        FROM voice_migration.call_damage(ARRAY[NEW]) AS x
        ON CONFLICT (entity, entity_id, reason) DO NOTHING;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION voice_migration.configs_catalog_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, x.code INTO bad
    FROM new_rows AS n CROSS JOIN LATERAL unnest(n.capabilities) AS x (code)
    WHERE NOT EXISTS (SELECT FROM voice_migration.capability_catalog AS k WHERE k.code = x.code)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'config %: capability % is not in voice_migration.capability_catalog',
            quote_literal(bad.id), quote_nullable(bad.code)
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'use a catalog capability, or add the code to voice_migration.capability_catalog first';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION voice_migration.calls_catalog_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, n.outcome_code INTO bad
    FROM new_rows AS n
    WHERE n.outcome_code IS NOT NULL
      AND NOT EXISTS (SELECT FROM voice_migration.outcome_catalog AS k WHERE k.code = n.outcome_code)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'call %: outcome_code % is not in voice_migration.outcome_catalog',
            quote_literal(bad.id), quote_literal(bad.outcome_code)
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'use a catalog outcome, or add the code to voice_migration.outcome_catalog first';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION voice_migration.catalog_keep_codes()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' OR TG_OP = 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code THEN
        RAISE EXCEPTION '%.% codes cannot be deleted or renamed: migrated rows refer to them',
            TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation',
                  HINT = 'add a new code instead; descriptions may be edited freely';
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS voice_agent_configs_dual_write ON voice_agent_configs;
CREATE TRIGGER voice_agent_configs_dual_write
    BEFORE INSERT OR UPDATE ON voice_agent_configs
    FOR EACH ROW WHEN (current_setting('voice_migration.backfill', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION voice_migration.configs_dual_write();

DROP TRIGGER IF EXISTS voice_agent_calls_dual_write ON voice_agent_calls;
CREATE TRIGGER voice_agent_calls_dual_write
    BEFORE INSERT OR UPDATE ON voice_agent_calls
    FOR EACH ROW WHEN (current_setting('voice_migration.backfill', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION voice_migration.calls_dual_write();

DROP TRIGGER IF EXISTS voice_agent_configs_catalog_guard_insert ON voice_agent_configs;
CREATE TRIGGER voice_agent_configs_catalog_guard_insert
    AFTER INSERT ON voice_agent_configs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.configs_catalog_guard();
DROP TRIGGER IF EXISTS voice_agent_configs_catalog_guard_update ON voice_agent_configs;
CREATE TRIGGER voice_agent_configs_catalog_guard_update
    AFTER UPDATE ON voice_agent_configs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.configs_catalog_guard();

DROP TRIGGER IF EXISTS voice_agent_calls_catalog_guard_insert ON voice_agent_calls;
CREATE TRIGGER voice_agent_calls_catalog_guard_insert
    AFTER INSERT ON voice_agent_calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.calls_catalog_guard();
DROP TRIGGER IF EXISTS voice_agent_calls_catalog_guard_update ON voice_agent_calls;
CREATE TRIGGER voice_agent_calls_catalog_guard_update
    AFTER UPDATE ON voice_agent_calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION voice_migration.calls_catalog_guard();

DROP TRIGGER IF EXISTS capability_catalog_keep_codes ON voice_migration.capability_catalog;
CREATE TRIGGER capability_catalog_keep_codes
    BEFORE UPDATE OR DELETE ON voice_migration.capability_catalog
    FOR EACH ROW EXECUTE FUNCTION voice_migration.catalog_keep_codes();
DROP TRIGGER IF EXISTS outcome_catalog_keep_codes ON voice_migration.outcome_catalog;
CREATE TRIGGER outcome_catalog_keep_codes
    BEFORE UPDATE OR DELETE ON voice_migration.outcome_catalog
    FOR EACH ROW EXECUTE FUNCTION voice_migration.catalog_keep_codes();
