-- guards.sql — triggers that keep the flag tables honest: stamp, audit, notify, refuse.
--
-- What: on voice_agent_v2_flags and voice_agent_v2_tenant_overrides, every change
--   * is stamped (updated_at, updated_by) — and, on the flags row, `step_started_at` restarts whenever
--     the percentage or the master switch changes (the rollout health gate's hold time);
--   * writes one row per changed row into voice_agent_v2_flag_audit, old and new value as jsonb;
--   * sends NOTIFY voice_agent_v2_flags (payload: the table name) at commit, so in-process caches
--     (voice_migration.rollout.cache) refresh at once.
--   Who, what and why come from transaction-local settings the tool sets before it writes
--   (voice_agent_v2.changed_by, voice_agent_v2.action, voice_agent_v2.reason, see
--   sql/flags/change_context.sql); a change made by hand in psql is audited too, as action 'sql' by
--   session_user. The audit trigger is SECURITY DEFINER so that a role allowed to change flags cannot
--   skip or forge the audit by lacking (or having) rights on the audit table.
--   A tenant inserted into (or updated in) voice_agent_v2_tenant_overrides also gets its three bits ORed
--   into voice_agent_v2_flags.override_filter (one UPDATE of the flags row per statement, from the
--   statement's transition table), which voice_agent_v2_enabled reads to skip the override lookup for
--   tenants without one. The bits are bookkeeping, not a flag change: an update that only adds bits is
--   neither stamped nor audited. Bits are never cleared — the stamp trigger ORs the old filter back
--   into any new one, also for an update by hand — so a removed override leaves a harmless "maybe".
--   The OR is re-read from the newest row version when two writers race (READ COMMITTED re-check), so
--   concurrent override inserts never lose each other's bits.
--   Refused outright: deleting or truncating the flags row (turn v2 off instead), truncating the
--   overrides (delete rows, so each removal is audited), and any UPDATE, DELETE or TRUNCATE of the audit.
-- Inputs: none. Run by revision 0002_v2_flags after tables.sql.
-- Re-run: not safe (CREATE TRIGGER); the functions alone are CREATE OR REPLACE.

CREATE OR REPLACE FUNCTION voice_agent_v2_change_actor() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(nullif(current_setting('voice_agent_v2.changed_by', true), ''), session_user::text)
$$;

-- True when an UPDATE of the flags row only added override-filter bits: bookkeeping, which the stamp
-- and audit triggers both leave alone (one definition, so the two cannot disagree).
CREATE OR REPLACE FUNCTION voice_agent_v2_only_filter_grew(
    old_row voice_agent_v2_flags, new_row voice_agent_v2_flags) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (new_row.enabled, new_row.rollout_percentage)
               IS NOT DISTINCT FROM (old_row.enabled, old_row.rollout_percentage)
       AND new_row.override_filter <> old_row.override_filter
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_stamp_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'voice_agent_v2_flags' AND TG_OP = 'UPDATE' THEN
        NEW.override_filter := NEW.override_filter | OLD.override_filter;  -- bits are never cleared
        IF public.voice_agent_v2_only_filter_grew(OLD, NEW) THEN
            RETURN NEW;  -- bookkeeping, not a change of the flags
        END IF;
    END IF;
    NEW.updated_at := now();
    NEW.updated_by := public.voice_agent_v2_change_actor();
    IF TG_TABLE_NAME = 'voice_agent_v2_flags' THEN
        IF TG_OP = 'INSERT'
           OR (NEW.rollout_percentage, NEW.enabled) IS DISTINCT FROM (OLD.rollout_percentage, OLD.enabled) THEN
            NEW.step_started_at := now();
        END IF;
    END IF;
    RETURN NEW;
END
$$;

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

CREATE OR REPLACE FUNCTION voice_agent_v2_notify_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('voice_agent_v2_flags', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_track_overrides() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    -- SECURITY DEFINER: a role allowed to write overrides need not be allowed to update the flags row.
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE public.voice_agent_v2_flags AS f
       SET override_filter = f.override_filter | added.bits
      FROM (SELECT bit_or(public.voice_agent_v2_override_bits(c.tenant_id)) AS bits FROM changed AS c) AS added
     WHERE added.bits IS NOT NULL
       AND (f.override_filter | added.bits) <> f.override_filter;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER voice_agent_v2_flags_stamp BEFORE INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_stamp_change();
CREATE TRIGGER voice_agent_v2_flags_audit AFTER INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_audit_change();
CREATE TRIGGER voice_agent_v2_flags_notify AFTER INSERT OR UPDATE ON voice_agent_v2_flags
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_notify_change();
CREATE TRIGGER voice_agent_v2_flags_keep_row BEFORE DELETE ON voice_agent_v2_flags
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_refuse_change(
        'the single flags row must stay; turn v2 off with `voice-migration rollback --level total --reason ...`');
CREATE TRIGGER voice_agent_v2_flags_no_truncate BEFORE TRUNCATE ON voice_agent_v2_flags
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change(
        'the single flags row must stay; turn v2 off with `voice-migration rollback --level total --reason ...`');

CREATE TRIGGER voice_agent_v2_overrides_stamp BEFORE INSERT OR UPDATE ON voice_agent_v2_tenant_overrides
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_stamp_change();
CREATE TRIGGER voice_agent_v2_overrides_audit AFTER INSERT OR UPDATE OR DELETE ON voice_agent_v2_tenant_overrides
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_audit_change();
CREATE TRIGGER voice_agent_v2_overrides_notify AFTER INSERT OR UPDATE OR DELETE ON voice_agent_v2_tenant_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_notify_change();
-- Two triggers: a transition table belongs to one event.
CREATE TRIGGER voice_agent_v2_overrides_track_insert AFTER INSERT ON voice_agent_v2_tenant_overrides
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_track_overrides();
CREATE TRIGGER voice_agent_v2_overrides_track_update AFTER UPDATE ON voice_agent_v2_tenant_overrides
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_track_overrides();
CREATE TRIGGER voice_agent_v2_overrides_no_truncate BEFORE TRUNCATE ON voice_agent_v2_tenant_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change(
        'delete the rows instead (`voice-migration rollout clear-tenant`), so that each removal is audited');

CREATE TRIGGER voice_agent_v2_audit_append_only BEFORE UPDATE OR DELETE ON voice_agent_v2_flag_audit
    FOR EACH ROW EXECUTE FUNCTION voice_agent_v2_refuse_change('the flag audit is append-only');
CREATE TRIGGER voice_agent_v2_audit_no_truncate BEFORE TRUNCATE ON voice_agent_v2_flag_audit
    FOR EACH STATEMENT EXECUTE FUNCTION voice_agent_v2_refuse_change('the flag audit is append-only');

-- voice_agent_v2_change_actor() and voice_agent_v2_only_filter_grew() stay executable by PUBLIC: the
-- stamp triggers run with the writer's rights and call them; the first only reads the writer's own
-- session settings, the second compares two rows it is given.
REVOKE ALL ON FUNCTION
    voice_agent_v2_stamp_change(),
    voice_agent_v2_audit_change(),
    voice_agent_v2_notify_change(),
    voice_agent_v2_track_overrides(),
    voice_agent_v2_refuse_change()
FROM PUBLIC;

-- The single row, created disabled at 0 %; audited as the rollout's first entry.
SELECT set_config('voice_agent_v2.changed_by', 'alembic 0002_v2_flags', true),
       set_config('voice_agent_v2.action', 'install', true);
INSERT INTO voice_agent_v2_flags (enabled, rollout_percentage) VALUES (false, 0);
