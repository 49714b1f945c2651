-- calls_dual_write v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.calls_dual_write, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/90_triggers.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
