-- voice_agent_v2_audit_change v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_audit_change, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/40_guard_functions.objects, whose comments explain the design).
--       Its REVOKE from PUBLIC is 0002's own SQL (45_guard_triggers.sql); CREATE OR REPLACE keeps it.
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_audit_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    -- Never public on the path of a SECURITY DEFINER function: an overload planted there (say
    -- jsonb_build_object(text, boolean, text, integer)) would run with the owner's rights.
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    old_value jsonb;
    new_value jsonb;
    tenant    text;
BEGIN
    IF TG_TABLE_NAME = 'voice_agent_v2_flags' THEN
        IF TG_OP = 'UPDATE' THEN
            IF public.voice_agent_v2_only_filter_grew(OLD, NEW) THEN
                RETURN NULL;  -- bookkeeping, not a change of the flags
            END IF;
            old_value := jsonb_build_object('enabled', OLD.enabled, 'rollout_percentage', OLD.rollout_percentage);
        END IF;
        new_value := jsonb_build_object('enabled', NEW.enabled, 'rollout_percentage', NEW.rollout_percentage);
    ELSE
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            old_value := jsonb_build_object('enabled', OLD.enabled, 'reason', OLD.reason);
            tenant := OLD.tenant_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            new_value := jsonb_build_object('enabled', NEW.enabled, 'reason', NEW.reason);
            tenant := NEW.tenant_id;
        END IF;
    END IF;
    INSERT INTO public.voice_agent_v2_flag_audit (changed_by, level, action, tenant_id, old_value, new_value, reason)
    VALUES (
        public.voice_agent_v2_change_actor(),
        CASE WHEN tenant IS NULL THEN 'global' ELSE 'tenant' END,
        coalesce(nullif(current_setting('voice_agent_v2.action', true), ''), 'sql'),
        tenant,
        old_value,
        new_value,
        nullif(current_setting('voice_agent_v2.reason', true), '')
    );
    RETURN NULL;
END
$$;
