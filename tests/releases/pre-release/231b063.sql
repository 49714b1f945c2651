BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001_v1_baseline

SET lock_timeout = '2s';

SET statement_timeout = '0';

-- v1_schema.sql — the v1 baseline tables, exactly as DESIGN.md section 3.
--
-- What: creates tenants, voice_agent_configs and voice_agent_calls in their v1 shape.
--       The v1 schema is deliberately lax (no foreign keys, nullable columns): it
--       describes the data that exists, messy as it is.
-- Inputs: none. Run by revision 0001_v1_baseline.
-- Re-run: not safe (plain CREATE TABLE). An existing v1 database is adopted with
--         `alembic stamp 0001_v1_baseline` instead of running this.

-- Plain CREATE TABLE on purpose (squawk's prefer-robust-stmts): this revision only runs on an empty
-- database, in one transaction that a failure rolls back whole, so there is never a half-done run to
-- repeat; IF NOT EXISTS would instead silently accept a same-named table of another shape (an existing
-- v1 database is adopted with `alembic stamp 0001_v1_baseline`, not by running this).
-- squawk-ignore prefer-robust-stmts -- see above
CREATE TABLE tenants (
    id         text PRIMARY KEY,
    name       text,
    created_at timestamptz
);

-- squawk-ignore prefer-robust-stmts -- see above
CREATE TABLE voice_agent_configs (
    id         text PRIMARY KEY,
    tenant_id  text,
    name       text,
    prompt     text,
    voice_id   text,
    language   text,
    enabled    boolean,
    created_at timestamptz,
    updated_at timestamptz
);

-- squawk-ignore prefer-robust-stmts -- see above
CREATE TABLE voice_agent_calls (
    id               text PRIMARY KEY,
    tenant_id        text,
    config_id        text,
    direction        text,
    status           text,
    ended_reason     text,
    duration_seconds numeric,
    latency_ms       numeric,
    outcome          text,
    transcript       text,
    version          text DEFAULT 'v1',
    created_at       timestamptz
);

INSERT INTO alembic_version (version_num) VALUES ('0001_v1_baseline') RETURNING alembic_version.version_num;

COMMIT;

BEGIN;

-- Running upgrade 0001_v1_baseline -> 0002_v2_flags

SET lock_timeout = '2s';

SET statement_timeout = '0';

-- 10_alembic_version_rls.sql — row-level security on Alembic's own table in public.
--
-- What: enables row-level security on public.alembic_version, the one table in public that Alembic
--       creates rather than a revision. Supabase gives `anon`/`authenticated` ALL on every new table
--       in public (default privileges) and serves public through its REST API: without this, anyone
--       with the anon key could read the schema revision, or delete the row and break every later
--       deploy. No policy: only the owner (the deploy pipeline) and roles given a policy on purpose
--       (sql/security/operator_role.sql) see the row. Keeps DESIGN.md's rule: every table created
--       in public has row-level security.
-- Inputs: public.alembic_version (exists: Alembic creates it before the first revision runs).
-- Re-run: safe (enabling row-level security twice is a no-op). Run by revision 0002_v2_flags, the
--         first revision an adopted v1 database (`alembic stamp 0001_v1_baseline`) runs; a downgrade
--         keeps it on (it hides nothing the owner needs).
-- Locks: ACCESS EXCLUSIVE on alembic_version for a catalog update (the revision holds it anyway).

ALTER TABLE public.alembic_version ENABLE ROW LEVEL SECURITY;

-- tables.sql — the feature-flag tables of the tenant-by-tenant v2 rollout (DESIGN.md sections 3 and 5).
--
-- What: creates
--   * voice_agent_v2_flags            — exactly one row: master switch, rollout percentage, who/when;
--                                       `step_started_at` is when the current step (percentage and
--                                       switch) began, which the rollout health gate's hold time reads;
--                                       `override_filter` is bookkeeping kept by a trigger (guards.sql): a
--                                       Bloom filter over every tenant that has (or had) an override, so
--                                       voice_agent_v2_enabled skips the override lookup for the others;
--   * voice_agent_v2_tenant_overrides — per-tenant true/false that beats the percentage;
--   * voice_agent_v2_flag_audit       — append-only history of every change (who, when, level, old, new, reason).
--   Invalid states are rejected by the database itself: a percentage outside 0..100 (CHECK), a second
--   flags row (boolean primary key that must be true). Deleting the row is refused by a trigger (guards.sql).
--   Row-level security is enabled on all three with no policy, so only the owner (and superusers) see
--   rows until an operator grants a role access on purpose (docs/rollout.md): Supabase exposes `public`
--   to `anon`/`authenticated` through its REST API and gives them table grants by default.
--   There is no foreign key to tenants on purpose: a data restore that deletes and re-inserts tenants
--   must not cascade into (or be blocked by) the rollout state; the tool checks the tenant instead.
-- Inputs: none. Run by revision 0002_v2_flags, before the triggers (guards.sql) and functions.
-- Re-run: not safe (plain CREATE TABLE); downgrade with `alembic downgrade 0001_v1_baseline`.

CREATE TABLE voice_agent_v2_flags (
    singleton          boolean PRIMARY KEY DEFAULT true
                       CONSTRAINT voice_agent_v2_flags_single_row CHECK (singleton),
    enabled            boolean NOT NULL DEFAULT false,
    -- squawk-ignore prefer-bigint-over-int -- a percentage, 0..100 by its CHECK: integer cannot overflow
    rollout_percentage integer NOT NULL DEFAULT 0
                       CONSTRAINT voice_agent_v2_flags_percentage_range CHECK (rollout_percentage BETWEEN 0 AND 100),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text NOT NULL DEFAULT session_user,
    step_started_at    timestamptz NOT NULL DEFAULT now(),
    -- 8,192 bits, three per overridden tenant (functions.sql, voice_agent_v2_override_bits). Bits are only
    -- ever added (guards.sql), so the filter never says "no override" for a tenant that has one; with
    -- 1,000 tenants ever overridden, a tenant without one still probes the overrides ~3 % of the time.
    -- 1 KB, STORAGE PLAIN: kept in the row uncompressed (no decompression per call). The size is chosen
    -- so that seven row versions fill a page to within PostgreSQL's pruning threshold (BLCKSZ / 10):
    -- updates of the flags row stay HOT and the table stays one page (2 KB rows left 1.4 KB free,
    -- never pruned, and the table grew a page every third update).
    override_filter    bit(8192) NOT NULL DEFAULT B'0'::bit(8192)
);

ALTER TABLE voice_agent_v2_flags ALTER COLUMN override_filter SET STORAGE PLAIN;

COMMENT ON TABLE voice_agent_v2_flags IS
    'voice agent v2 rollout: the single flags row (master switch and percentage); change it with voice-migration rollout/rollback';

CREATE TABLE voice_agent_v2_tenant_overrides (
    tenant_id  text PRIMARY KEY,
    enabled    boolean NOT NULL,
    reason     text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT session_user
);

COMMENT ON TABLE voice_agent_v2_tenant_overrides IS
    'voice agent v2 rollout: per-tenant override of the percentage (the master switch still wins)';

CREATE TABLE voice_agent_v2_flag_audit (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,
    db_user    text NOT NULL DEFAULT session_user,
    level      text NOT NULL CONSTRAINT voice_agent_v2_flag_audit_level CHECK (level IN ('global', 'tenant')),
    action     text NOT NULL,
    tenant_id  text,
    old_value  jsonb,
    new_value  jsonb,
    reason     text,
    CONSTRAINT voice_agent_v2_flag_audit_tenant_level CHECK ((level = 'tenant') = (tenant_id IS NOT NULL))
);

COMMENT ON TABLE voice_agent_v2_flag_audit IS
    'voice agent v2 rollout: append-only audit of every flag and override change (written by triggers)';

CREATE INDEX voice_agent_v2_flag_audit_tenant_idx ON voice_agent_v2_flag_audit (tenant_id, id)
    WHERE tenant_id IS NOT NULL;

ALTER TABLE voice_agent_v2_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE voice_agent_v2_tenant_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE voice_agent_v2_flag_audit ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON voice_agent_v2_flags, voice_agent_v2_tenant_overrides, voice_agent_v2_flag_audit FROM PUBLIC;

-- functions.sql — the rollout decision in SQL (DESIGN.md section 5).
--
-- What: installs
--   * voice_agent_v2_bucket(tenant_id text) -> int: the tenant's bucket 0..99,
--       ('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100. md5 reads the text's bytes in the
--       database encoding, so on a UTF8 database it equals Python's
--       int(hashlib.md5(tenant_id.encode()).hexdigest()[:8], 16) % 100 for every string
--       (tests/test_flags_database.py checks that with generated unicode strings).
--       IMMUTABLE (stricter than STABLE): the result depends on the argument only.
--   * voice_agent_v2_override_bits(tenant_id text) -> bit(8192): the tenant's three bits in the flags row's
--       override filter, at positions taken from md5 hex digits 9..20 (digits 1..8 are the bucket):
--       p = ('x' || substr(md5(tenant_id), 9, 12))::bit(48)::bigint, bits (p >> 26) & 8191,
--       (p >> 13) & 8191 and p & 8191. IMMUTABLE. guards.sql ORs them into the filter.
--   * voice_agent_v2_enabled(tenant_id text) -> boolean: false when the master switch is off; else the
--       tenant's override when it has one; else bucket < rollout_percentage. NULL tenant -> false.
--       It reads the flags row (switch, percentage, override filter) in one query and looks the tenant up
--       in voice_agent_v2_tenant_overrides only when all three of its filter bits are set: a tenant that
--       never had an override costs one query, not two (100,000 tenants, 1,000 overrides: 0.51 s -> 0.37 s, bench/flags_bench.py).
--       The filter can only say "maybe": a set bit without an override costs a lookup, never a wrong answer.
--       STABLE and SECURITY INVOKER: it reads the flag tables with the caller's rights, so a role needs
--       EXECUTE, SELECT on the two flag tables and a SELECT policy (docs/rollout.md, "Grants").
--       Without the grants it raises "permission denied"; with them but no policy, row-level security
--       hides the flags row and it answers false (v1), the safe side during a rollout.
--   Both pin search_path to pg_catalog (and pg_temp last) and name the flag tables schema-qualified:
--   with public on the path, a function or operator planted there with a more exact argument type
--   (e.g. an operator %(bigint, integer)) would win overload resolution and run as the caller
--   (tests/reliability/test_security_roles.py). EXECUTE is revoked from PUBLIC (grant it to the
--   application role).
-- Inputs: none. Run by revision 0002_v2_flags after tables.sql.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_agent_v2_bucket(tenant_id text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100)::integer
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_override_bits(tenant_id text) RETURNS bit(8192)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (B'1'::bit(8192) >> ((p >> 26) & 8191)::integer)
         | (B'1'::bit(8192) >> ((p >> 13) & 8191)::integer)
         | (B'1'::bit(8192) >> (p & 8191)::integer)
      FROM (SELECT ('x' || substr(md5(tenant_id), 9, 12))::bit(48)::bigint AS p) AS probe
$$;

CREATE OR REPLACE FUNCTION voice_agent_v2_enabled(tenant_id text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    master_on  boolean;
    percentage integer;
    filter     bit varying;
    digest     text;
    probe      bigint;
    override   boolean;
BEGIN
    IF tenant_id IS NULL THEN
        RETURN false;
    END IF;
    SELECT f.enabled, f.rollout_percentage, f.override_filter INTO master_on, percentage, filter
      FROM public.voice_agent_v2_flags AS f;
    IF NOT coalesce(master_on, false) THEN
        RETURN false;
    END IF;
    digest := md5(tenant_id);
    -- The filter positions of voice_agent_v2_override_bits, inlined like the bucket below
    -- (tests/test_flags_database.py checks that overrides are always honoured).
    probe := ('x' || substr(digest, 9, 12))::bit(48)::bigint;
    IF get_bit(filter, ((probe >> 26) & 8191)::integer) = 1
       AND get_bit(filter, ((probe >> 13) & 8191)::integer) = 1
       AND get_bit(filter, (probe & 8191)::integer) = 1 THEN
        SELECT o.enabled INTO override FROM public.voice_agent_v2_tenant_overrides AS o WHERE o.tenant_id = $1;
        IF override IS NOT NULL THEN
            RETURN override;
        END IF;
    END IF;
    -- The bucket formula of voice_agent_v2_bucket, inlined on purpose: a nested call to a function with
    -- its own SET clause is re-planned on every call and made a 100,000-tenant count three times slower.
    -- tests/test_flags_database.py checks that the two agree.
    RETURN (('x' || substr(digest, 1, 8))::bit(32)::bigint % 100) < percentage;
END
$$;

COMMENT ON FUNCTION voice_agent_v2_bucket(text) IS
    'voice agent v2 rollout bucket 0..99 of a tenant id: md5-based, same as the Python client';
COMMENT ON FUNCTION voice_agent_v2_override_bits(text) IS
    'voice agent v2 rollout: the three bits of a tenant id in voice_agent_v2_flags.override_filter';
COMMENT ON FUNCTION voice_agent_v2_enabled(text) IS
    'true when the tenant should be served by voice agent v2 (master switch, then override, then bucket < percentage)';

REVOKE ALL ON FUNCTION voice_agent_v2_bucket(text), voice_agent_v2_override_bits(text), voice_agent_v2_enabled(text)
    FROM PUBLIC;

-- guards.sql — triggers that keep the flag tables honest: stamp, audit, notify, refuse.
--
-- What: on voice_agent_v2_flags and voice_agent_v2_tenant_overrides, every change
--   * is stamped (updated_at, updated_by) — and, on the flags row, `step_started_at` restarts whenever
--     the percentage or the master switch changes (the rollout health gate's hold time);
--   * writes one row per changed row into voice_agent_v2_flag_audit, old and new value as jsonb;
--   * sends NOTIFY voice_agent_v2_flags (payload: the table name) at commit, so in-process caches
--     (voice_migration.flag_cache) refresh at once.
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

CREATE OR REPLACE FUNCTION voice_agent_v2_stamp_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'voice_agent_v2_flags' AND TG_OP = 'UPDATE' THEN
        NEW.override_filter := NEW.override_filter | OLD.override_filter;  -- bits are never cleared
        IF (NEW.enabled, NEW.rollout_percentage) IS NOT DISTINCT FROM (OLD.enabled, OLD.rollout_percentage)
           AND NEW.override_filter <> OLD.override_filter THEN
            RETURN NEW;  -- only the override filter grew: bookkeeping, not a change of the flags
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
        IF TG_OP = 'UPDATE'
           AND (NEW.enabled, NEW.rollout_percentage) IS NOT DISTINCT FROM (OLD.enabled, OLD.rollout_percentage)
           AND NEW.override_filter <> OLD.override_filter THEN
            RETURN NULL;  -- only the override filter grew (see voice_agent_v2_stamp_change)
        END IF;
        IF TG_OP = 'UPDATE' THEN
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

-- voice_agent_v2_change_actor() stays executable by PUBLIC: the stamp triggers run with the writer's
-- rights and call it; it only reads the writer's own session settings.
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

UPDATE alembic_version SET version_num='0002_v2_flags' WHERE alembic_version.version_num = '0001_v1_baseline';

COMMIT;

BEGIN;

-- Running upgrade 0002_v2_flags -> 0003_v2_expand

SET lock_timeout = '2s';

SET statement_timeout = '0';

COMMIT;

-- 40_index.sql — the index the transformation routes through: calls by (tenant_id, config_id).
--
-- What: builds voice_agent_calls_tenant_config_idx CONCURRENTLY (v1 writers are never blocked),
--       before the backfill, because the configs phase (call directions), the metrics phase and the
--       dual-write trigger look calls up by their config, always together with the tenant.
-- Inputs: none. Must run outside a transaction block (alembic autocommit_block; psql autocommit).
-- Re-run: safe (IF NOT EXISTS). If a build was interrupted, PostgreSQL leaves an INVALID index that
--         IF NOT EXISTS would keep: drop it (DROP INDEX CONCURRENTLY voice_agent_calls_tenant_config_idx)
--         and run again (docs/transform.md).

CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_tenant_config_idx
    ON voice_agent_calls (tenant_id, config_id) INCLUDE (direction);

BEGIN;

-- 10_bookkeeping.sql — the voice_migration schema: quarantine, backfill progress and the two catalogs.
--
-- What: creates the bookkeeping schema `voice_migration` (not readable by PUBLIC), the quarantine
--       table (INTERNALS.md), the resume state of the backfill and the capability and outcome
--       catalogs. Their content is loaded by sql/catalogs/*.sql; rule tables: 20_rule_tables.sql.
-- Inputs: none. Run by revision 0003_v2_expand.
-- Re-run: safe (IF NOT EXISTS everywhere): `backups create` may already have made the schema, and
--         a downgrade keeps it (backups and downgrade archives live there).

CREATE SCHEMA IF NOT EXISTS voice_migration;
-- Supabase exposes schemas through PostgREST; bookkeeping holds full copies of rows, so nobody but
-- the owner (and roles granted explicitly) may even look up names in it.
REVOKE ALL ON SCHEMA voice_migration FROM PUBLIC;

-- Rows that cannot be migrated as they are; the data row itself is never deleted.
CREATE TABLE IF NOT EXISTS voice_migration.quarantine (
    entity         text NOT NULL CHECK (entity IN ('config', 'call')),
    entity_id      text NOT NULL,
    tenant_id      text,
    reason         text NOT NULL,
    detail         text,
    original_row   jsonb NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entity, entity_id, reason)
);

-- Where each backfill phase stands, per tenant scope, so any process can resume (GitLab style).
-- scope is '*' (all tenants) or the sorted, distinct tenant ids joined by ','.
CREATE TABLE IF NOT EXISTS voice_migration.backfill_progress (
    phase        text NOT NULL CHECK (phase IN ('configs', 'calls', 'metrics')),
    scope        text NOT NULL,
    last_key     text,                       -- NULL: start from the first key
    rows_done    bigint NOT NULL DEFAULT 0,  -- keys walked in the current pass
    rows_changed bigint NOT NULL DEFAULT 0,  -- rows whose v2 values were written in the current pass
    quarantined  bigint NOT NULL DEFAULT 0,  -- rows of the walked batches that are in quarantine
    batches      bigint NOT NULL DEFAULT 0,  -- bigint: batch size 1 over 2^31 rows must not overflow
    started_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,                -- set when the pass reached the last key
    PRIMARY KEY (phase, scope)
);

CREATE TABLE IF NOT EXISTS voice_migration.capability_catalog (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    description text
);

CREATE TABLE IF NOT EXISTS voice_migration.outcome_catalog (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    description text
);

-- manifest.sql — the bookkeeping schema and the backups manifest (DESIGN.md section 3).
--
-- What: creates schema voice_migration and table voice_migration.backups when missing, and
--       keeps both unreadable by PUBLIC (voice_migration is never exposed through an API).
--       One manifest row per backup; the backup's data lives in tables of the same schema
--       named <backup_id>_tenants, _configs, _calls and _metrics (the last only when the
--       database had voice_agent_metrics).
-- Inputs: none. Run by `voice-migration backups create` / `migrate` when the manifest is
--         missing (a v1 database), and by revision 0003_v2_expand.
-- Re-run: safe (IF NOT EXISTS everywhere; REVOKE is idempotent).
--
-- Checksums: for each backed-up table, md5 over its rows' text form ROW(columns)::text,
-- ordered by the table's key and joined by newlines, computed with TimeZone=UTC and
-- DateStyle=ISO so that any session gets the same text ('empty' for no rows).

CREATE SCHEMA IF NOT EXISTS voice_migration;
REVOKE ALL ON SCHEMA voice_migration FROM PUBLIC;

CREATE TABLE IF NOT EXISTS voice_migration.backups (
    backup_id        text PRIMARY KEY
                     CHECK (backup_id ~ '^backup_[0-9]{8}_[0-9]{6}(_[0-9]{1,4})?$'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    kind             text NOT NULL DEFAULT 'manual'
                     CHECK (kind IN ('manual', 'migrate', 'safety')),
    alembic_revision text,                 -- NULL: the database had no Alembic revision
    tenant_ids       text[],               -- NULL: every tenant
    tenants_count    bigint NOT NULL,
    configs_count    bigint NOT NULL,
    calls_count      bigint NOT NULL,
    metrics_count    bigint,               -- NULL: voice_agent_metrics did not exist
    checksums        jsonb NOT NULL,       -- {"tenants": md5, "configs": md5, ...}
    size_bytes       bigint NOT NULL,      -- pg_total_relation_size of the data tables
    note             text
);
REVOKE ALL ON voice_migration.backups FROM PUBLIC;

-- 10_normalise.sql — the normalisers every rule lookup goes through.
--
-- What: voice_migration.fold_text(text)    -> ' words ' : accents removed (NFD), lower case,
--                                             every run of other characters one space, padded
--                                             with a space on both sides (so ' ' || keyword finds
--                                             a keyword at the start of a word);
--       voice_migration.fold_keyword(text) -> the same without the padding: how keywords are stored;
--       voice_migration.normalize_key(text)-> letters and digits only: how spellings are compared
--                                             ('Cita Agendada', 'cita-agendada', 'CITA_AGENDADA'
--                                             all give 'citaagendada').
--       All are IMMUTABLE and STRICT (NULL in, NULL out). They assume a UTF8 database (normalize()).
-- Inputs: none.  Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.fold_text(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    -- NFD splits an accented letter into its base letter and combining marks (U+0300..U+036F),
    -- which are dropped; lower() then only meets ASCII letters with a meaning here, whatever the
    -- collation. Everything else (punctuation, emoji, other scripts) separates words.
    SELECT ' ' || btrim(regexp_replace(
               lower(regexp_replace(normalize(p_text, NFD), '[\u0300-\u036f]+', '', 'g')),
               '[^a-z0-9]+', ' ', 'g')) || ' '
$$;

CREATE OR REPLACE FUNCTION voice_migration.fold_keyword(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT btrim(voice_migration.fold_text(p_text)) $$;

CREATE OR REPLACE FUNCTION voice_migration.normalize_key(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT replace(voice_migration.fold_text(p_text), ' ', '') $$;

-- The canonical form of a capabilities array: distinct members, sorted (NULL stays NULL).
CREATE OR REPLACE FUNCTION voice_migration.sorted_distinct(p_items text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(array_agg(DISTINCT item ORDER BY item), '{}') FROM unnest(p_items) AS item $$;

-- 20_rule_tables.sql — the rule tables the v2 transformation reads (data, not code: DESIGN.md section 4).
--
-- What: creates the language, direction, legacy-outcome, outcome-inference, capability-keyword,
--       assistant-type-keyword and prompt-line tables in `voice_migration`. Their content is loaded
--       by sql/catalogs/30_rules.sql; a DBA may add rows (then re-run the backfill for unmigrated rows).
-- Inputs: the normalisers of sql/transform/10_normalise.sql must exist (the CHECKs use them).
-- Re-run: safe (IF NOT EXISTS).

-- Keys are stored already normalised (sql/transform/10_normalise.sql): a CHECK rejects a key typed
-- in another spelling, so a rule a DBA adds can never silently fail to match.

-- Language spellings (ISO 639 codes and language names) -> BCP 47 primary language subtag.
CREATE TABLE IF NOT EXISTS voice_migration.language_map (
    spelling_key text PRIMARY KEY CHECK (spelling_key <> '' AND spelling_key = voice_migration.normalize_key(spelling_key)),
    language     text NOT NULL CHECK (language ~ '^[a-z]{2,3}$')  -- a region comes from the spelling
);

-- Call direction spellings -> inbound / outbound.
CREATE TABLE IF NOT EXISTS voice_migration.direction_map (
    spelling_key text PRIMARY KEY CHECK (spelling_key <> '' AND spelling_key = voice_migration.normalize_key(spelling_key)),
    direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound'))
);

-- v1 manual outcome spellings -> outcome code (outcome_source = 'manual').
CREATE TABLE IF NOT EXISTS voice_migration.legacy_outcome_map (
    spelling_key text PRIMARY KEY CHECK (spelling_key <> '' AND spelling_key = voice_migration.normalize_key(spelling_key)),
    outcome_code text NOT NULL REFERENCES voice_migration.outcome_catalog (code)
);

-- Outcome inference (outcome_source = 'inferred'); the lowest priority that matches wins.
--   stage 'status'       : match = the call's normalised status
--   stage 'ended_reason' : match is contained in the call's normalised ended_reason
--   stage 'transcript'   : match (folded words) starts a word of the call's folded transcript
--   stage 'short_call'   : match = seconds; a completed call shorter than that
CREATE TABLE IF NOT EXISTS voice_migration.outcome_rules (
    -- squawk-ignore prefer-bigint-over-int -- a rule's rank among a few dozen rules written by hand
    priority     integer PRIMARY KEY,
    stage        text NOT NULL CHECK (stage IN ('status', 'ended_reason', 'transcript', 'short_call')),
    match        text NOT NULL CHECK (match <> ''),
    outcome_code text NOT NULL REFERENCES voice_migration.outcome_catalog (code),
    UNIQUE (stage, match),
    CONSTRAINT outcome_rules_match_is_normalised CHECK (CASE stage
        WHEN 'status' THEN match = voice_migration.normalize_key(match)
        WHEN 'ended_reason' THEN match = voice_migration.normalize_key(match)
        WHEN 'transcript' THEN match = voice_migration.fold_keyword(match)
        ELSE match ~ '^[0-9]+(\.[0-9]+)?$' END)
);

-- Prompt keywords -> capability (folded words, matched at the start of a word of the folded prompt).
CREATE TABLE IF NOT EXISTS voice_migration.capability_keywords (
    keyword    text PRIMARY KEY CHECK (keyword <> '' AND keyword = voice_migration.fold_keyword(keyword)),
    capability text NOT NULL REFERENCES voice_migration.capability_catalog (code)
);

-- Prompt keywords -> assistant type, used only for a config without calls of a known direction.
CREATE TABLE IF NOT EXISTS voice_migration.assistant_type_keywords (
    keyword        text PRIMARY KEY CHECK (keyword <> '' AND keyword = voice_migration.fold_keyword(keyword)),
    assistant_type text NOT NULL CHECK (assistant_type IN ('inbound', 'outbound'))
);

-- Recognisable prompt lines. A 'label' marker is the text before ':' at the start of a line
-- (normalised), a 'bullet' marker is the first character of the line.
CREATE TABLE IF NOT EXISTS voice_migration.prompt_line_markers (
    marker      text NOT NULL CHECK (marker <> ''),
    marker_type text NOT NULL CHECK (marker_type IN ('label', 'bullet')),
    kind        text NOT NULL CHECK (kind IN ('greeting', 'farewell', 'instruction')),
    PRIMARY KEY (marker_type, marker),
    CONSTRAINT prompt_line_markers_marker_is_normalised CHECK (
        marker_type = 'bullet' AND length(marker) = 1
        OR marker_type = 'label' AND marker = voice_migration.fold_keyword(marker))
);

-- 10_capabilities.sql — the capability catalog (DESIGN.md section 4).
--
-- What: the capability codes a config's `capabilities` may hold; the database rejects any other.
-- Inputs: table voice_migration.capability_catalog (sql/expand/10_bookkeeping.sql).
-- Re-run: safe (ON CONFLICT DO NOTHING; descriptions a DBA edited are kept). To add a capability,
--         insert a row here or by hand, then add its keywords to voice_migration.capability_keywords.

INSERT INTO voice_migration.capability_catalog (code, description) VALUES
    ('appointment_booking',       'books new appointments'),
    ('appointment_rescheduling',  'moves or cancels existing appointments'),
    ('reservations',              'takes table, room or service reservations'),
    ('faq',                       'answers frequently asked questions (hours, prices, location)'),
    ('human_transfer',            'transfers the caller to a person'),
    ('order_taking',              'takes orders'),
    ('lead_qualification',        'qualifies sales leads'),
    ('reminders',                 'calls or messages to remind of appointments or payments'),
    ('payments',                  'collects payments or deposits'),
    ('callback_scheduling',       'schedules a call back'),
    ('voicemail_handling',        'leaves or handles voicemail'),
    ('surveys',                   'runs surveys')
ON CONFLICT (code) DO NOTHING;

-- 20_outcomes.sql — the outcome catalog (DESIGN.md section 4).
--
-- What: the outcome codes a call's `outcome_code` may hold; the database rejects any other.
-- Inputs: table voice_migration.outcome_catalog (sql/expand/10_bookkeeping.sql).
-- Re-run: safe (ON CONFLICT DO NOTHING; descriptions a DBA edited are kept).

INSERT INTO voice_migration.outcome_catalog (code, description) VALUES
    ('appointment_booked',    'an appointment was booked'),
    ('order_placed',          'an order was placed'),
    ('information_provided',  'the caller got the information asked for'),
    ('transferred_to_human',  'the call was transferred to a person'),
    ('callback_requested',    'the caller asked to be called back'),
    ('not_interested',        'the person was not interested'),
    ('voicemail',             'the call reached voicemail'),
    ('no_answer',             'nobody answered'),
    ('busy',                  'the line was busy'),
    ('abandoned',             'a completed call shorter than the short-call threshold'),
    ('failed',                'the call failed (status failed or error)'),
    ('other',                 'none of the rules matched')
ON CONFLICT (code) DO NOTHING;

-- 30_rules.sql — the initial content of the rule tables (DESIGN.md section 4).
--
-- What: language, direction and legacy-outcome spellings; outcome inference rules; capability and
--       assistant-type keywords; recognisable prompt lines (Spanish and English). Keys are written
--       through the normalisers, so they are stored exactly as lookups compute them.
-- Inputs: the tables of sql/expand/20_rule_tables.sql and both catalogs (loaded first).
-- Re-run: safe (ON CONFLICT DO NOTHING): rows a DBA added or changed are kept.
--
-- Extending: add rows (normalised with voice_migration.normalize_key / fold_keyword; a CHECK rejects
-- others), then re-run the backfill; already migrated rows are recomputed by any v1 write.

INSERT INTO voice_migration.language_map (spelling_key, language)
SELECT voice_migration.normalize_key(spelling), language
FROM (VALUES
    ('es', 'es'), ('spa', 'es'), ('Spanish', 'es'), ('español', 'es'), ('castellano', 'es'),
    ('en', 'en'), ('eng', 'en'), ('English', 'en'), ('inglés', 'en'),
    ('pt', 'pt'), ('por', 'pt'), ('Portuguese', 'pt'), ('portugués', 'pt'), ('português', 'pt'),
    ('fr', 'fr'), ('fra', 'fr'), ('fre', 'fr'), ('French', 'fr'), ('francés', 'fr'), ('français', 'fr'),
    ('de', 'de'), ('deu', 'de'), ('ger', 'de'), ('German', 'de'), ('alemán', 'de'), ('Deutsch', 'de'),
    ('it', 'it'), ('ita', 'it'), ('Italian', 'it'), ('italiano', 'it'),
    ('ca', 'ca'), ('cat', 'ca'), ('Catalan', 'ca'), ('catalán', 'ca'), ('català', 'ca'),
    ('nl', 'nl'), ('nld', 'nl'), ('Dutch', 'nl'), ('neerlandés', 'nl')
) AS v (spelling, language)
ON CONFLICT (spelling_key) DO NOTHING;

INSERT INTO voice_migration.direction_map (spelling_key, direction)
SELECT voice_migration.normalize_key(spelling), direction
FROM (VALUES
    ('inbound', 'inbound'), ('in', 'inbound'), ('incoming', 'inbound'), ('inb', 'inbound'),
    ('entrante', 'inbound'), ('entrada', 'inbound'), ('recibida', 'inbound'),
    ('outbound', 'outbound'), ('out', 'outbound'), ('outgoing', 'outbound'), ('outb', 'outbound'),
    ('saliente', 'outbound'), ('salida', 'outbound'), ('realizada', 'outbound')
) AS v (spelling, direction)
ON CONFLICT (spelling_key) DO NOTHING;

-- Every catalog code is its own legacy spelling ('appointment_booked', 'Appointment Booked', ...).
INSERT INTO voice_migration.legacy_outcome_map (spelling_key, outcome_code)
SELECT voice_migration.normalize_key(code), code FROM voice_migration.outcome_catalog
ON CONFLICT (spelling_key) DO NOTHING;

INSERT INTO voice_migration.legacy_outcome_map (spelling_key, outcome_code)
SELECT voice_migration.normalize_key(spelling), outcome_code
FROM (VALUES
    ('Cita Agendada', 'appointment_booked'), ('cita programada', 'appointment_booked'),
    ('cita reservada', 'appointment_booked'), ('agendada', 'appointment_booked'),
    ('appointment scheduled', 'appointment_booked'), ('booked', 'appointment_booked'),
    ('pedido realizado', 'order_placed'), ('orden realizada', 'order_placed'), ('pedido', 'order_placed'),
    ('order', 'order_placed'), ('ordered', 'order_placed'),
    ('información proporcionada', 'information_provided'), ('información', 'information_provided'),
    ('info', 'information_provided'), ('information', 'information_provided'),
    ('transferido', 'transferred_to_human'), ('transferida', 'transferred_to_human'),
    ('transferred', 'transferred_to_human'), ('transfer', 'transferred_to_human'),
    ('devolver llamada', 'callback_requested'), ('llamar de nuevo', 'callback_requested'),
    ('callback', 'callback_requested'), ('call back', 'callback_requested'),
    ('no interesado', 'not_interested'), ('no interesada', 'not_interested'),
    ('no le interesa', 'not_interested'),
    ('buzón de voz', 'voicemail'), ('buzón', 'voicemail'), ('mensaje de voz', 'voicemail'),
    ('voice mail', 'voicemail'),
    ('sin respuesta', 'no_answer'), ('no contesta', 'no_answer'), ('no contestó', 'no_answer'),
    ('ocupado', 'busy'), ('línea ocupada', 'busy'),
    ('abandonada', 'abandoned'), ('abandonado', 'abandoned'), ('colgó', 'abandoned'),
    ('hung up', 'abandoned'),
    ('fallida', 'failed'), ('fallido', 'failed'), ('error', 'failed'), ('fallo', 'failed'),
    ('otro', 'other'), ('otra', 'other')
) AS v (spelling, outcome_code)
ON CONFLICT (spelling_key) DO NOTHING;

-- Inference order (DESIGN.md section 4): status, then ended_reason, then transcript, then short call.
-- Gaps between priorities leave room for a DBA's own rules.
INSERT INTO voice_migration.outcome_rules (priority, stage, match, outcome_code)
SELECT priority, stage,
       CASE stage WHEN 'transcript' THEN voice_migration.fold_keyword(match)
                  WHEN 'short_call' THEN match
                  ELSE voice_migration.normalize_key(match) END,
       outcome_code
FROM (VALUES
    (100, 'status', 'no-answer', 'no_answer'),
    (110, 'status', 'busy', 'busy'),
    (120, 'status', 'failed', 'failed'),
    (130, 'status', 'error', 'failed'),
    (200, 'ended_reason', 'voicemail', 'voicemail'),
    (210, 'ended_reason', 'transfer', 'transferred_to_human'),
    (220, 'ended_reason', 'forward', 'transferred_to_human'),
    (230, 'ended_reason', 'did-not-answer', 'no_answer'),
    (240, 'ended_reason', 'busy', 'busy'),
    -- transcripts: refusals first, so "no me interesa agendar" is not read as a booking
    (300, 'transcript', 'no me interesa', 'not_interested'),
    (301, 'transcript', 'no estoy interesado', 'not_interested'),
    (302, 'transcript', 'no estoy interesada', 'not_interested'),
    (303, 'transcript', 'not interested', 'not_interested'),
    (310, 'transcript', 'transfer you', 'transferred_to_human'),
    (311, 'transcript', 'transferirle', 'transferred_to_human'),
    (312, 'transcript', 'le transfiero', 'transferred_to_human'),
    (313, 'transcript', 'te transfiero', 'transferred_to_human'),
    (320, 'transcript', 'call me back', 'callback_requested'),
    (321, 'transcript', 'call you back', 'callback_requested'),
    (322, 'transcript', 'llámame', 'callback_requested'),
    (323, 'transcript', 'devolver la llamada', 'callback_requested'),
    (324, 'transcript', 'llamar más tarde', 'callback_requested'),
    (330, 'transcript', 'buzón de voz', 'voicemail'),
    (331, 'transcript', 'leave a message', 'voicemail'),
    (332, 'transcript', 'deje su mensaje', 'voicemail'),
    (340, 'transcript', 'cita quedó agendada', 'appointment_booked'),
    (341, 'transcript', 'cita agendada', 'appointment_booked'),
    (342, 'transcript', 'appointment is booked', 'appointment_booked'),
    (343, 'transcript', 'appointment booked', 'appointment_booked'),
    (344, 'transcript', 'booked your appointment', 'appointment_booked'),
    (350, 'transcript', 'order is confirmed', 'order_placed'),
    (351, 'transcript', 'place an order', 'order_placed'),
    (352, 'transcript', 'pedido confirmado', 'order_placed'),
    (353, 'transcript', 'su pedido', 'order_placed'),
    (360, 'transcript', 'opening hours', 'information_provided'),
    (361, 'transcript', 'we open', 'information_provided'),
    (362, 'transcript', 'horario', 'information_provided'),
    (363, 'transcript', 'abrimos', 'information_provided'),
    (900, 'short_call', '10', 'abandoned')
) AS v (priority, stage, match, outcome_code)
ON CONFLICT DO NOTHING;

INSERT INTO voice_migration.capability_keywords (keyword, capability)
SELECT voice_migration.fold_keyword(keyword), capability
FROM (VALUES
    ('agendar', 'appointment_booking'), ('agenda citas', 'appointment_booking'),
    ('reservar cita', 'appointment_booking'), ('programar cita', 'appointment_booking'),
    ('sacar cita', 'appointment_booking'), ('book appointment', 'appointment_booking'),
    ('book an appointment', 'appointment_booking'), ('schedule appointment', 'appointment_booking'),
    ('schedule an appointment', 'appointment_booking'), ('make an appointment', 'appointment_booking'),
    ('appointment booking', 'appointment_booking'),
    ('reprogramar', 'appointment_rescheduling'), ('reagendar', 'appointment_rescheduling'),
    ('cambiar la cita', 'appointment_rescheduling'), ('reschedule', 'appointment_rescheduling'),
    ('rescheduling', 'appointment_rescheduling'),
    ('reservation', 'reservations'), ('reservación', 'reservations'), ('reservar mesa', 'reservations'),
    ('reservar una mesa', 'reservations'), ('reserve a table', 'reservations'), ('book a table', 'reservations'),
    ('faq', 'faq'), ('preguntas frecuentes', 'faq'), ('frequently asked', 'faq'),
    ('opening hours', 'faq'), ('business hours', 'faq'), ('horario', 'faq'),
    ('transfiere a un humano', 'human_transfer'), ('transferir a un humano', 'human_transfer'),
    ('agente humano', 'human_transfer'), ('transfer to a human', 'human_transfer'),
    ('transfer to a person', 'human_transfer'), ('human agent', 'human_transfer'),
    ('take orders', 'order_taking'), ('take an order', 'order_taking'), ('taking orders', 'order_taking'),
    ('tomar pedidos', 'order_taking'), ('toma pedidos', 'order_taking'), ('tomar el pedido', 'order_taking'),
    ('califica leads', 'lead_qualification'), ('calificar leads', 'lead_qualification'),
    ('califica prospectos', 'lead_qualification'), ('calificar prospectos', 'lead_qualification'),
    ('qualify leads', 'lead_qualification'), ('lead qualification', 'lead_qualification'),
    ('remind', 'reminders'), ('recordatorio', 'reminders'),
    ('payment', 'payments'), ('pago', 'payments'), ('cobrar', 'payments'), ('cobro', 'payments'),
    ('llamada de regreso', 'callback_scheduling'), ('devolver la llamada', 'callback_scheduling'),
    ('call back', 'callback_scheduling'), ('callback', 'callback_scheduling'),
    ('mensaje de voz', 'voicemail_handling'), ('buzón de voz', 'voicemail_handling'),
    ('voicemail', 'voicemail_handling'), ('voice mail', 'voicemail_handling'),
    ('encuesta', 'surveys'), ('survey', 'surveys')
) AS v (keyword, capability)
ON CONFLICT (keyword) DO NOTHING;

INSERT INTO voice_migration.assistant_type_keywords (keyword, assistant_type)
SELECT voice_migration.fold_keyword(keyword), assistant_type
FROM (VALUES
    ('recepcionista', 'inbound'), ('receptionist', 'inbound'), ('gracias por llamar', 'inbound'),
    ('thanks for calling', 'inbound'), ('support line', 'inbound'), ('atiende llamadas', 'inbound'),
    ('answer calls', 'inbound'), ('phone host', 'inbound'), ('llamadas entrantes', 'inbound'),
    ('inbound', 'inbound'),
    ('llamas a', 'outbound'), ('que llama a', 'outbound'), ('you call', 'outbound'),
    ('call customers', 'outbound'), ('call prospects', 'outbound'), ('llamadas salientes', 'outbound'),
    ('outbound', 'outbound')
) AS v (keyword, assistant_type)
ON CONFLICT (keyword) DO NOTHING;

INSERT INTO voice_migration.prompt_line_markers (marker, marker_type, kind)
SELECT CASE marker_type WHEN 'label' THEN voice_migration.fold_keyword(marker) ELSE marker END,
       marker_type, kind
FROM (VALUES
    ('Saludo', 'label', 'greeting'), ('Saludo inicial', 'label', 'greeting'),
    ('Bienvenida', 'label', 'greeting'), ('Mensaje de bienvenida', 'label', 'greeting'),
    ('Greeting', 'label', 'greeting'), ('Welcome message', 'label', 'greeting'),
    ('Opening line', 'label', 'greeting'),
    ('Despedida', 'label', 'farewell'), ('Mensaje de despedida', 'label', 'farewell'),
    ('Farewell', 'label', 'farewell'), ('Goodbye', 'label', 'farewell'), ('Closing line', 'label', 'farewell'),
    ('Instrucción', 'label', 'instruction'), ('Instrucciones', 'label', 'instruction'),
    ('Instrucción especial', 'label', 'instruction'), ('Instrucciones especiales', 'label', 'instruction'),
    ('Nota', 'label', 'instruction'), ('Importante', 'label', 'instruction'), ('Regla', 'label', 'instruction'),
    ('Instruction', 'label', 'instruction'), ('Instructions', 'label', 'instruction'),
    ('Special instruction', 'label', 'instruction'), ('Special instructions', 'label', 'instruction'),
    ('Note', 'label', 'instruction'), ('Important', 'label', 'instruction'), ('Rule', 'label', 'instruction'),
    ('-', 'bullet', 'instruction'), ('*', 'bullet', 'instruction'), ('•', 'bullet', 'instruction'),
    ('–', 'bullet', 'instruction'), ('·', 'bullet', 'instruction')
) AS v (marker, marker_type, kind)
ON CONFLICT DO NOTHING;

-- 20_configs.sql — configs -> v2: language, prompt lines, capabilities, assistant type, quarantine.
--
-- What: voice_migration.normalize_language(text) -> BCP 47 ('es_MX' -> 'es-MX', 'Spanish' -> 'es')
--       or NULL when it cannot be normalised (NULL, empty, unknown);
--       voice_migration.derive_configs(voice_agent_configs[]) -> one row per input config with its
--       v2 values, or, when a required v2 field cannot be derived without guessing, NULL v2 values
--       and the quarantine reasons (DESIGN.md section 4, reason codes in INTERNALS.md).
--       Set-based: every normaliser runs once per distinct value of the batch, never per call row.
--       The backfill (a batch of configs) and the dual-write trigger (ARRAY[NEW]) both use it.
-- Inputs: the rule tables, tenants, voice_agent_calls (directions of each config's calls, joined on
--       tenant_id and config_id: the index voice_agent_calls_tenant_config_idx serves it).
-- Re-run: safe (CREATE OR REPLACE); the functions only read.

CREATE OR REPLACE FUNCTION voice_migration.normalize_language(p_language text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    -- 'es', 'ES', 'es_MX', 'en-us', 'es 419': a known language code or name, then an optional
    -- region (2 letters or 3 digits). Anything else must be a known name as a whole ('español').
    SELECT CASE WHEN parts IS NOT NULL
                THEN (SELECT m.language FROM voice_migration.language_map AS m
                      WHERE m.spelling_key = voice_migration.normalize_key(parts[1]))
                     || coalesce('-' || upper(parts[2]), '')
                ELSE (SELECT m.language FROM voice_migration.language_map AS m
                      WHERE m.spelling_key = voice_migration.normalize_key(p_language)) END
    FROM (SELECT regexp_match(btrim(p_language), '^([A-Za-z]+)(?:[-_ ]([A-Za-z]{2}|[0-9]{3}))?$')
          AS parts) AS p
$$;

CREATE OR REPLACE FUNCTION voice_migration.derive_configs(p_configs voice_agent_configs[])
RETURNS TABLE (
    id             text,
    tenant_id      text,
    assistant_type text,
    voice_config   jsonb,
    personality    jsonb,
    capabilities   text[],
    reasons        text[],   -- quarantine reason codes; empty = migrate
    details        text[]    -- the offending value per reason (quote_nullable: NULL vs '')
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH src AS MATERIALIZED (
        SELECT s.id, s.tenant_id, s.prompt, s.voice_id, s.language FROM unnest(p_configs) AS s
    ),
    prompts AS MATERIALIZED (            -- every distinct usable prompt, folded once, numbered
        SELECT row_number() OVER () AS pid, u.prompt, voice_migration.fold_text(u.prompt) AS folded
        FROM (SELECT DISTINCT s.prompt FROM src AS s WHERE btrim(s.prompt, E' \t\r\n') <> '') AS u
    ),
    lines AS (
        SELECT p.pid, l.n, l.t,
               CASE WHEN strpos(l.t, ':') BETWEEN 2 AND 41
                    THEN voice_migration.fold_keyword(left(l.t, strpos(l.t, ':') - 1)) END AS label
        FROM prompts AS p
        CROSS JOIN LATERAL (
            SELECT x.n, btrim(x.line, E' \t') AS t
            FROM regexp_split_to_table(p.prompt, E'\r\n|\n|\r') WITH ORDINALITY AS x (line, n)
        ) AS l
    ),
    marked AS MATERIALIZED (             -- a label line wins over a bullet line
        SELECT l.pid, l.n, coalesce(lab.kind, bul.kind) AS kind,
               btrim(CASE WHEN lab.kind IS NOT NULL THEN substr(l.t, strpos(l.t, ':') + 1)
                          ELSE substr(l.t, 2) END, E' \t') AS body
        FROM lines AS l
        LEFT JOIN voice_migration.prompt_line_markers AS lab
               ON lab.marker_type = 'label' AND lab.marker = l.label
        LEFT JOIN voice_migration.prompt_line_markers AS bul
               ON bul.marker_type = 'bullet' AND bul.marker = left(l.t, 1)
        WHERE lab.kind IS NOT NULL OR bul.kind IS NOT NULL
    ),
    lines_by_prompt AS (
        SELECT m.pid,
               jsonb_agg(m.body ORDER BY m.n) FILTER (WHERE m.kind = 'instruction') AS instructions,
               (array_agg(m.body ORDER BY m.n) FILTER (WHERE m.kind = 'greeting'))[1] AS greeting,
               (array_agg(m.body ORDER BY m.n) FILTER (WHERE m.kind = 'farewell'))[1] AS farewell
        FROM marked AS m WHERE m.body <> ''
        GROUP BY m.pid
    ),
    keywords AS (                        -- capability keywords, at the start of a word
        SELECT p.pid,
               coalesce(array_agg(DISTINCT k.capability ORDER BY k.capability)
                            FILTER (WHERE k.capability IS NOT NULL), '{}') AS capabilities
        FROM prompts AS p
        LEFT JOIN voice_migration.capability_keywords AS k ON strpos(p.folded, ' ' || k.keyword) > 0
        GROUP BY p.pid
    ),
    parsed AS MATERIALIZED (
        SELECT p.prompt,
               jsonb_build_object('base_prompt', p.prompt,
                                  'special_instructions', coalesce(lb.instructions, '[]'::jsonb))
               || jsonb_strip_nulls(jsonb_build_object('greeting_message', lb.greeting,
                                                       'farewell_message', lb.farewell)) AS personality,
               kw.capabilities,
               EXISTS (SELECT FROM voice_migration.assistant_type_keywords AS a
                       WHERE a.assistant_type = 'inbound' AND strpos(p.folded, ' ' || a.keyword) > 0)
                   AS says_inbound,
               EXISTS (SELECT FROM voice_migration.assistant_type_keywords AS a
                       WHERE a.assistant_type = 'outbound' AND strpos(p.folded, ' ' || a.keyword) > 0)
                   AS says_outbound
        FROM prompts AS p
        LEFT JOIN lines_by_prompt AS lb ON lb.pid = p.pid
        JOIN keywords AS kw ON kw.pid = p.pid
    ),
    languages AS MATERIALIZED (          -- MATERIALIZED: normalise per distinct language, not per row
        SELECT l.language, voice_migration.normalize_language(l.language) AS bcp47
        FROM (SELECT DISTINCT s.language FROM src AS s) AS l
    ),
    call_directions AS (                 -- per config, the raw directions of its calls
        SELECT s.id, c.direction
        FROM src AS s
        JOIN public.voice_agent_calls AS c ON c.tenant_id = s.tenant_id AND c.config_id = s.id
        GROUP BY s.id, c.direction
    ),
    direction_keys AS MATERIALIZED (     -- MATERIALIZED: normalise per distinct direction, not per row
        SELECT r.direction, m.direction AS normalised
        FROM (SELECT DISTINCT x.direction FROM call_directions AS x) AS r
        JOIN voice_migration.direction_map AS m
          ON m.spelling_key = voice_migration.normalize_key(r.direction)
    ),
    directions AS (
        SELECT cd.id,
               bool_or(d.normalised = 'inbound') AS has_inbound,
               bool_or(d.normalised = 'outbound') AS has_outbound
        FROM call_directions AS cd
        JOIN direction_keys AS d ON d.direction = cd.direction
        GROUP BY cd.id
    ),
    checked AS (
        SELECT s.*, lg.bcp47, pa.personality AS parsed_personality, pa.capabilities AS found,
               pa.says_inbound, pa.says_outbound, dr.has_inbound, dr.has_outbound,
               array_remove(ARRAY[
                   CASE WHEN nullif(btrim(s.voice_id, E' \t\r\n'), '') IS NULL THEN 'missing_voice_id' END,
                   CASE WHEN pa.prompt IS NULL THEN 'empty_prompt' END,
                   CASE WHEN lg.bcp47 IS NULL THEN 'unknown_language' END,
                   CASE WHEN t.id IS NULL THEN 'missing_tenant' END], NULL) AS reasons,
               array_remove(ARRAY[
                   CASE WHEN nullif(btrim(s.voice_id, E' \t\r\n'), '') IS NULL THEN quote_nullable(s.voice_id) END,
                   CASE WHEN pa.prompt IS NULL THEN quote_nullable(s.prompt) END,
                   CASE WHEN lg.bcp47 IS NULL THEN quote_nullable(s.language) END,
                   CASE WHEN t.id IS NULL THEN quote_nullable(s.tenant_id) END], NULL) AS details
        FROM src AS s
        LEFT JOIN parsed AS pa ON pa.prompt = s.prompt
        LEFT JOIN languages AS lg ON lg.language IS NOT DISTINCT FROM s.language
        LEFT JOIN directions AS dr ON dr.id = s.id
        LEFT JOIN public.tenants AS t ON t.id = s.tenant_id
    )
    SELECT k.id, k.tenant_id,
           CASE WHEN cardinality(k.reasons) > 0 THEN NULL
                WHEN k.has_inbound AND k.has_outbound THEN 'hybrid'
                WHEN k.has_inbound THEN 'inbound'
                WHEN k.has_outbound THEN 'outbound'
                -- no call of a known direction: the prompt decides, and inbound by default
                WHEN k.says_inbound AND k.says_outbound THEN 'hybrid'
                WHEN k.says_outbound THEN 'outbound'
                ELSE 'inbound' END,
           CASE WHEN cardinality(k.reasons) = 0
                THEN jsonb_build_object('voice_id', k.voice_id, 'language', k.bcp47) END,
           CASE WHEN cardinality(k.reasons) = 0 THEN k.parsed_personality END,
           CASE WHEN cardinality(k.reasons) = 0 THEN k.found END,
           k.reasons,
           k.details
    FROM checked AS k;
END
$$;

-- 30_calls.sql — calls -> outcome_code / outcome_source, and the damage a call can carry.
--
-- What: voice_migration.derive_call_outcomes(voice_agent_calls[]) -> (id, tenant_id, outcome_code,
--       outcome_source) per input call (DESIGN.md section 4): the legacy mapping of the v1 `outcome`
--       first ('manual'); otherwise the lowest-priority voice_migration.outcome_rules row that
--       matches the status, ended_reason, transcript or short-call duration ('inferred'); else 'other'.
--       Set-based: each normaliser runs once per distinct value in the batch (statuses, ended
--       reasons, outcomes and transcripts repeat a lot), and each row only does hash lookups.
--       voice_migration.call_damage(voice_agent_calls[]) -> (id, tenant_id, reason, detail) for calls
--       whose config or tenant is missing or whose tenant differs from its config's: they are still
--       migrated, and recorded in quarantine so validation can tell known v1 damage from new damage.
--       The backfill (a batch) and the dual-write trigger (ARRAY[NEW]) both use these.
-- Inputs: the rule tables; tenants and voice_agent_configs for call_damage.
-- Re-run: safe (CREATE OR REPLACE); the functions only read.

CREATE OR REPLACE FUNCTION voice_migration.derive_call_outcomes(p_calls voice_agent_calls[])
RETURNS TABLE (id text, tenant_id text, outcome_code text, outcome_source text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- NULL and '' behave alike for every rule (no rule matches ''), so coalesce(x, '') gives
    -- hashable join keys for the per-distinct-value lookups below.
    RETURN QUERY
    WITH src AS MATERIALIZED (
        SELECT s.id, s.tenant_id,
               coalesce(s.outcome, '') AS outcome, coalesce(s.status, '') AS status,
               coalesce(s.ended_reason, '') AS ended_reason, coalesce(s.transcript, '') AS transcript,
               s.duration_seconds
        FROM unnest(p_calls) AS s
    ),
    rules AS MATERIALIZED (
        SELECT r.priority, r.stage, r.match, r.outcome_code FROM voice_migration.outcome_rules AS r
    ),
    short_rules AS MATERIALIZED (
        SELECT r.priority, r.match::numeric AS seconds, r.outcome_code FROM rules AS r
        WHERE r.stage = 'short_call'
    ),
    manual AS MATERIALIZED (             -- MATERIALIZED: normalise per distinct value, not per row
        SELECT o.outcome, m.outcome_code
        FROM (SELECT DISTINCT s.outcome FROM src AS s) AS o
        JOIN voice_migration.legacy_outcome_map AS m
          ON m.spelling_key = voice_migration.normalize_key(o.outcome)
    ),
    by_status AS MATERIALIZED (          -- status and ended_reason rules, per distinct pair
        SELECT p.status, p.ended_reason, k.status_key = 'completed' AS completed,
               best.priority, best.outcome_code
        FROM (SELECT DISTINCT s.status, s.ended_reason FROM src AS s) AS p
        CROSS JOIN LATERAL (SELECT voice_migration.normalize_key(p.status) AS status_key,
                                   voice_migration.normalize_key(p.ended_reason) AS ended_key) AS k
        LEFT JOIN LATERAL (
            SELECT r.priority, r.outcome_code FROM rules AS r
            WHERE (r.stage = 'status' AND r.match = k.status_key)
               OR (r.stage = 'ended_reason' AND strpos(k.ended_key, r.match) > 0)
            ORDER BY r.priority LIMIT 1) AS best ON true
    ),
    by_transcript AS MATERIALIZED (      -- transcript rules, per distinct transcript
        SELECT t.transcript, best.priority, best.outcome_code
        FROM (SELECT DISTINCT s.transcript FROM src AS s) AS t
        CROSS JOIN LATERAL (SELECT voice_migration.fold_text(t.transcript) AS folded) AS f
        JOIN LATERAL (
            SELECT r.priority, r.outcome_code FROM rules AS r
            WHERE r.stage = 'transcript' AND strpos(f.folded, ' ' || r.match) > 0
            ORDER BY r.priority LIMIT 1) AS best ON true
    ),
    inferred AS (
        SELECT s.id, s.tenant_id, m.outcome_code AS manual_code,
               bs.priority AS p1, bs.outcome_code AS c1,
               bt.priority AS p2, bt.outcome_code AS c2,
               sc.priority AS p3, sc.outcome_code AS c3
        FROM src AS s
        LEFT JOIN manual AS m ON m.outcome = s.outcome
        JOIN by_status AS bs ON bs.status = s.status AND bs.ended_reason = s.ended_reason
        LEFT JOIN by_transcript AS bt ON bt.transcript = s.transcript
        LEFT JOIN LATERAL (
            SELECT r.priority, r.outcome_code FROM short_rules AS r
            WHERE bs.completed AND s.duration_seconds < r.seconds
            ORDER BY r.priority LIMIT 1) AS sc ON true
    )
    SELECT i.id, i.tenant_id,
           CASE WHEN i.manual_code IS NOT NULL THEN i.manual_code
                ELSE CASE least(i.p1, i.p2, i.p3)
                         WHEN i.p1 THEN i.c1 WHEN i.p2 THEN i.c2 WHEN i.p3 THEN i.c3
                         ELSE 'other' END END,
           CASE WHEN i.manual_code IS NOT NULL THEN 'manual' ELSE 'inferred' END
    FROM inferred AS i;
END
$$;

CREATE OR REPLACE FUNCTION voice_migration.call_damage(p_calls voice_agent_calls[])
RETURNS TABLE (id text, tenant_id text, reason text, detail text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- The config is looked up by id alone on purpose: a config under another tenant is exactly
    -- the cross-tenant damage this reports (the one lookup here that is not routed by tenant).
    RETURN QUERY
    SELECT s.id, s.tenant_id, d.reason, d.detail
    FROM unnest(p_calls) AS s
    LEFT JOIN public.voice_agent_configs AS g ON g.id = s.config_id
    LEFT JOIN public.tenants AS t ON t.id = s.tenant_id
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN g.id IS NULL THEN 'missing_config' END, quote_nullable(s.config_id)),
        (CASE WHEN t.id IS NULL THEN 'missing_tenant' END, quote_nullable(s.tenant_id)),
        (CASE WHEN g.tenant_id IS DISTINCT FROM s.tenant_id AND g.id IS NOT NULL
              THEN 'tenant_mismatch' END,
         quote_nullable(s.tenant_id) || ' <> config tenant ' || quote_nullable(g.tenant_id))
    ) AS d (reason, detail)
    WHERE d.reason IS NOT NULL
      -- The three conditions again, on the joined call before the VALUES list: it quotes and
      -- concatenates every detail before it filters, which was half of the function's time (1 call in
      -- 20 is damaged in the benchmark's messy data; 12 of 25 ms per batch of 5,000).
      AND (g.id IS NULL OR t.id IS NULL OR g.tenant_id IS DISTINCT FROM s.tenant_id);
END
$$;

-- 40_metrics.sql — per-config call metrics (DESIGN.md section 3, voice_agent_metrics).
--
-- What: voice_migration.derive_metrics(voice_agent_configs[]) -> one row per input config that has
--       calls: total_calls, avg_duration_seconds (avg of duration_seconds as stored), p50/p95/p99 of
--       latency_ms (percentile_cont over the calls with non-NULL latency), outcome_counts
--       ({outcome_code: calls}), error_rate (failed calls / total calls; failed =
--       lower(status) IN ('failed', 'error'), INTERNALS.md), first_call_at and last_call_at.
--       A config's calls are those with its id AND its tenant_id (routable by tenant; a call filed
--       under another tenant is damage, counted by validation, not by the metrics).
-- Inputs: voice_agent_calls (outcome_code filled by the calls phase first).
-- Re-run: safe (CREATE OR REPLACE); the function only reads.

CREATE OR REPLACE FUNCTION voice_migration.derive_metrics(p_configs voice_agent_configs[])
RETURNS TABLE (
    tenant_id            text,
    config_id            text,
    total_calls          bigint,
    avg_duration_seconds numeric,
    p50_latency_ms       double precision,
    p95_latency_ms       double precision,
    p99_latency_ms       double precision,
    outcome_counts       jsonb,
    error_rate           numeric,
    first_call_at        timestamptz,
    last_call_at         timestamptz
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH cfg AS (
        SELECT s.id, s.tenant_id FROM unnest(p_configs) AS s
    ),
    calls AS MATERIALIZED (
        SELECT c.tenant_id, c.config_id, c.duration_seconds, c.latency_ms, c.outcome_code, c.status,
               c.created_at
        FROM cfg
        JOIN public.voice_agent_calls AS c ON c.tenant_id = cfg.tenant_id AND c.config_id = cfg.id
    ),
    outcomes AS (
        SELECT o.tenant_id, o.config_id, jsonb_object_agg(o.outcome_code, o.n ORDER BY o.outcome_code) AS counts
        FROM (SELECT c.tenant_id, c.config_id, c.outcome_code, count(*) AS n FROM calls AS c
              WHERE c.outcome_code IS NOT NULL GROUP BY 1, 2, 3) AS o
        GROUP BY 1, 2
    ),
    agg AS (
        SELECT c.tenant_id, c.config_id, count(*) AS total, avg(c.duration_seconds) AS avg_duration,
               -- percentile_cont works in double precision: a numeric latency beyond its range (NaN,
               -- Infinity, 1e400, 1e-400) cannot be a latency and would abort the batch; it counts as no
               -- latency (pre-flight out_of_range reports it; validation's metrics_accuracy agrees).
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
                   ORDER BY CASE WHEN c.latency_ms = 0 OR abs(c.latency_ms) BETWEEN 1e-300 AND 1e300
                              THEN c.latency_ms END) AS pct,
               count(*) FILTER (WHERE lower(c.status) IN ('failed', 'error')) AS failed,
               min(c.created_at) AS first_at, max(c.created_at) AS last_at
        FROM calls AS c
        GROUP BY 1, 2
    )
    SELECT a.tenant_id, a.config_id, a.total, a.avg_duration, a.pct[1], a.pct[2], a.pct[3],
           coalesce(o.counts, '{}'::jsonb), a.failed::numeric / a.total, a.first_at, a.last_at
    FROM agg AS a
    LEFT JOIN outcomes AS o ON o.tenant_id = a.tenant_id AND o.config_id = a.config_id;
END
$$;

-- 10_step.sql — one batch of the backfill: the unit both the Python runner and the SQL procedure use.
--
-- What: voice_migration.backfill_scope(text[]) -> '*' or the sorted, distinct tenant ids joined by ','.
--       voice_migration.backfill_step(phase, batch_size, tenant_ids) takes the next `batch_size`
--       primary keys after the stored position of (phase, scope) (keyset walk on the PK), migrates
--       them set-based, syncs their quarantine entries, stores the new position, and returns
--       (last_key, rows_done, rows_changed, quarantined, finished). The caller commits: position
--       and data change in the same transaction, so a killed run resumes exactly after the last
--       committed batch. A finished pass is restarted from the first key by the next call.
--         configs : configs not yet migrated (schema_version IS NULL) get their v2 values, or stay
--                   in v1 shape and are quarantined; migrated ones are kept in step by the
--                   dual-write trigger and never rewritten here (v2-only edits are safe).
--         calls   : calls without an outcome get outcome_code/outcome_source; every call of the
--                   batch has its quarantine entries (missing config/tenant, tenant mismatch) synced.
--         metrics : the batch's configs get their voice_agent_metrics row inserted, updated when a
--                   value differs, or deleted when they no longer have calls.
--       Rows whose values would not change are not written (no dead tuple, no WAL), so a re-run
--       on migrated data reports rows_changed = 0 and leaves migrated_at untouched.
-- Inputs: the transform functions of sql/transform; tenant_ids NULL = every tenant.
-- Re-run: safe (CREATE OR REPLACE); each call is idempotent.
-- Locks: row locks of the batch only; a row a writer holds longer than lock_timeout fails the
--        batch with lock_not_available, and the caller retries it.

CREATE OR REPLACE FUNCTION voice_migration.backfill_scope(p_tenant_ids text[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(array_to_string(voice_migration.sorted_distinct(p_tenant_ids), ','), '*') $$;

CREATE OR REPLACE FUNCTION voice_migration.backfill_step(
    p_phase text, p_batch_size integer, p_tenant_ids text[] DEFAULT NULL)
RETURNS TABLE (last_key text, rows_done integer, rows_changed integer, quarantined integer, finished boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- The batch arrays are parameters: a custom plan sees their real size (thousands, not 10 rows).
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
DECLARE
    v_scope   text := voice_migration.backfill_scope(p_tenant_ids);
    v_from    text;
    v_to      text;
    v_upper   text;     -- NULL on the last batch: it also covers keys past the end
    v_n       integer;
    v_changed integer := 0;
    v_quar    integer := 0;
    v_done    timestamptz;
    v_configs public.voice_agent_configs[];
    v_calls   public.voice_agent_calls[];
BEGIN
    IF p_phase IS NULL OR p_phase NOT IN ('configs', 'calls', 'metrics') THEN
        RAISE EXCEPTION 'unknown backfill phase %', quote_nullable(p_phase)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'use configs, calls or metrics';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size < 1 THEN
        RAISE EXCEPTION 'batch size must be at least 1, got %', quote_nullable(p_batch_size)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO voice_migration.backfill_progress AS bp (phase, scope) VALUES (p_phase, v_scope)
    ON CONFLICT (phase, scope) DO NOTHING;
    -- The row lock serialises concurrent runners: each batch is taken exactly once.
    SELECT bp.last_key, bp.finished_at INTO v_from, v_done
    FROM voice_migration.backfill_progress AS bp
    WHERE bp.phase = p_phase AND bp.scope = v_scope FOR UPDATE;
    IF v_done IS NOT NULL THEN
        v_from := NULL;
        UPDATE voice_migration.backfill_progress AS bp
        SET last_key = NULL, rows_done = 0, rows_changed = 0, quarantined = 0, batches = 0,
            started_at = now(), updated_at = now(), finished_at = NULL
        WHERE bp.phase = p_phase AND bp.scope = v_scope;
    END IF;

    -- The dual-write trigger must not treat the backfill's own writes as a v2 application's.
    PERFORM set_config('voice_migration.backfill', 'on', true);

    IF p_phase = 'calls' THEN
        SELECT max(k.id), count(*) INTO v_to, v_n
        FROM (SELECT c.id FROM public.voice_agent_calls AS c
              WHERE (v_from IS NULL OR c.id > v_from)
                AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids))
              ORDER BY c.id LIMIT p_batch_size) AS k;
        v_upper := CASE WHEN v_n < p_batch_size THEN NULL ELSE v_to END;
        v_calls := ARRAY(
            SELECT c FROM public.voice_agent_calls AS c
            WHERE (v_from IS NULL OR c.id > v_from) AND (v_upper IS NULL OR c.id <= v_upper)
              AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids))
            ORDER BY c.id);

        UPDATE public.voice_agent_calls AS c
        SET outcome_code = d.outcome_code, outcome_source = d.outcome_source
        FROM voice_migration.derive_call_outcomes(ARRAY(
                 SELECT r FROM unnest(v_calls) AS r WHERE r.outcome_code IS NULL)) AS d
        WHERE c.id = d.id AND c.tenant_id IS NOT DISTINCT FROM d.tenant_id
          AND (v_from IS NULL OR c.id > v_from) AND (v_upper IS NULL OR c.id <= v_upper)
          AND c.outcome_code IS NULL
          AND (c.outcome_code, c.outcome_source) IS DISTINCT FROM (d.outcome_code, d.outcome_source);
        GET DIAGNOSTICS v_changed = ROW_COUNT;

        WITH damage AS MATERIALIZED (
            SELECT * FROM voice_migration.call_damage(v_calls)
        ), added AS (
            INSERT INTO voice_migration.quarantine AS q
                (entity, entity_id, tenant_id, reason, detail, original_row)
            SELECT 'call', d.id, d.tenant_id, d.reason, d.detail, to_jsonb(r)
            FROM damage AS d JOIN unnest(v_calls) AS r ON r.id = d.id
            ON CONFLICT (entity, entity_id, reason) DO NOTHING
        ), released AS (
            DELETE FROM voice_migration.quarantine AS q
            WHERE q.entity = 'call'
              AND (v_from IS NULL OR q.entity_id > v_from) AND (v_upper IS NULL OR q.entity_id <= v_upper)
              AND (p_tenant_ids IS NULL OR q.tenant_id = ANY (p_tenant_ids))
              AND NOT EXISTS (SELECT FROM damage AS d WHERE d.id = q.entity_id AND d.reason = q.reason)
        )
        SELECT count(DISTINCT d.id) INTO v_quar FROM damage AS d;
    ELSE
        SELECT max(k.id), count(*) INTO v_to, v_n
        FROM (SELECT c.id FROM public.voice_agent_configs AS c
              WHERE (v_from IS NULL OR c.id > v_from)
                AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids))
              ORDER BY c.id LIMIT p_batch_size) AS k;
        v_upper := CASE WHEN v_n < p_batch_size THEN NULL ELSE v_to END;
        v_configs := ARRAY(
            SELECT c FROM public.voice_agent_configs AS c
            WHERE (v_from IS NULL OR c.id > v_from) AND (v_upper IS NULL OR c.id <= v_upper)
              AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids))
            ORDER BY c.id);

        IF p_phase = 'configs' THEN
            WITH d AS MATERIALIZED (
                SELECT * FROM voice_migration.derive_configs(ARRAY(
                    SELECT r FROM unnest(v_configs) AS r WHERE r.schema_version IS NULL))
            ), migrated AS (
                UPDATE public.voice_agent_configs AS c
                SET assistant_type = d.assistant_type, voice_config = d.voice_config,
                    personality = d.personality, capabilities = d.capabilities,
                    schema_version = 'v2', migrated_at = now(), migrated_from = 'v1'
                FROM d
                WHERE c.id = d.id AND c.tenant_id IS NOT DISTINCT FROM d.tenant_id
                  AND c.schema_version IS NULL AND cardinality(d.reasons) = 0
                RETURNING c.id
            ), added AS (
                INSERT INTO voice_migration.quarantine AS q
                    (entity, entity_id, tenant_id, reason, detail, original_row)
                SELECT 'config', d.id, d.tenant_id, x.reason, x.detail, to_jsonb(r)
                FROM d
                CROSS JOIN LATERAL unnest(d.reasons, d.details) AS x (reason, detail)
                JOIN unnest(v_configs) AS r ON r.id = d.id
                ON CONFLICT (entity, entity_id, reason) DO NOTHING
            ), released AS (
                DELETE FROM voice_migration.quarantine AS q
                WHERE q.entity = 'config'
                  AND (v_from IS NULL OR q.entity_id > v_from) AND (v_upper IS NULL OR q.entity_id <= v_upper)
                  AND (p_tenant_ids IS NULL OR q.tenant_id = ANY (p_tenant_ids))
                  AND NOT EXISTS (SELECT FROM d WHERE d.id = q.entity_id AND q.reason = ANY (d.reasons))
            )
            SELECT (SELECT count(*) FROM migrated),
                   (SELECT count(*) FROM d WHERE cardinality(d.reasons) > 0)
            INTO v_changed, v_quar;
        ELSE
            WITH d AS MATERIALIZED (
                SELECT * FROM voice_migration.derive_metrics(v_configs)
            ), upserted AS (
                INSERT INTO public.voice_agent_metrics AS m
                    (tenant_id, config_id, total_calls, avg_duration_seconds, p50_latency_ms,
                     p95_latency_ms, p99_latency_ms, outcome_counts, error_rate, first_call_at,
                     last_call_at, computed_at)
                SELECT d.tenant_id, d.config_id, d.total_calls, d.avg_duration_seconds, d.p50_latency_ms,
                       d.p95_latency_ms, d.p99_latency_ms, d.outcome_counts, d.error_rate,
                       d.first_call_at, d.last_call_at, now()
                FROM d
                ON CONFLICT (config_id) DO UPDATE
                SET tenant_id = excluded.tenant_id, total_calls = excluded.total_calls,
                    avg_duration_seconds = excluded.avg_duration_seconds,
                    p50_latency_ms = excluded.p50_latency_ms, p95_latency_ms = excluded.p95_latency_ms,
                    p99_latency_ms = excluded.p99_latency_ms, outcome_counts = excluded.outcome_counts,
                    error_rate = excluded.error_rate, first_call_at = excluded.first_call_at,
                    last_call_at = excluded.last_call_at, computed_at = excluded.computed_at
                WHERE (m.tenant_id, m.total_calls, m.avg_duration_seconds, m.p50_latency_ms,
                       m.p95_latency_ms, m.p99_latency_ms, m.outcome_counts, m.error_rate,
                       m.first_call_at, m.last_call_at)
                      IS DISTINCT FROM
                      (excluded.tenant_id, excluded.total_calls, excluded.avg_duration_seconds,
                       excluded.p50_latency_ms, excluded.p95_latency_ms, excluded.p99_latency_ms,
                       excluded.outcome_counts, excluded.error_rate, excluded.first_call_at,
                       excluded.last_call_at)
                RETURNING 1
            ), removed AS (
                DELETE FROM public.voice_agent_metrics AS m
                WHERE (v_from IS NULL OR m.config_id > v_from) AND (v_upper IS NULL OR m.config_id <= v_upper)
                  AND (p_tenant_ids IS NULL OR m.tenant_id = ANY (p_tenant_ids))
                  AND NOT EXISTS (SELECT FROM d WHERE d.config_id = m.config_id)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed) INTO v_changed;
        END IF;
    END IF;

    PERFORM set_config('voice_migration.backfill', 'off', true);

    UPDATE voice_migration.backfill_progress AS bp
    SET last_key = coalesce(v_to, bp.last_key),
        rows_done = bp.rows_done + v_n,
        rows_changed = bp.rows_changed + v_changed,
        quarantined = bp.quarantined + v_quar,
        batches = bp.batches + 1,
        updated_at = now(),
        finished_at = CASE WHEN v_upper IS NULL THEN now() END
    WHERE bp.phase = p_phase AND bp.scope = v_scope;

    RETURN QUERY SELECT v_to, v_n, v_changed, v_quar, v_upper IS NULL;
END
$$;

-- 20_procedure.sql — the whole backfill as one CALL, committing after every batch (plain-SQL path).
--
-- What: CALL voice_migration.backfill(batch_size, tenant_ids, lock_retries) runs the phases configs,
--       calls and metrics with voice_migration.backfill_step (the same step the Python runner uses),
--       COMMITs after every batch, retries a batch that hit lock_timeout with backoff (then fails
--       with a clear message; the next run resumes there) and halves the batch on statement_timeout.
--       It must be CALLed outside a transaction block (alembic: autocommit_block; psql: autocommit).
-- Inputs: batch_size (default 5000), tenant_ids (NULL = all), lock_retries (default 5).
-- Re-run: safe: it resumes from voice_migration.backfill_progress; on migrated data it changes nothing.
-- Note: PostgreSQL refuses COMMIT in a procedure that has a SET clause, so this one cannot pin
--       search_path like every function does; every name in it is schema-qualified instead, and
--       every operator's operands have types with an exact pg_catalog operator.

CREATE OR REPLACE PROCEDURE voice_migration.backfill(
    p_batch_size integer DEFAULT 5000, p_tenant_ids text[] DEFAULT NULL, p_lock_retries integer DEFAULT 5)
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    v_phase    text;
    v_size     integer;
    v_attempts integer;
    v_step     record;
    v_changed  bigint;
BEGIN
    FOREACH v_phase IN ARRAY ARRAY['configs', 'calls', 'metrics'] LOOP
        v_size := p_batch_size;
        v_changed := 0;
        LOOP
            v_attempts := 0;
            LOOP
                BEGIN
                    SELECT * INTO v_step FROM voice_migration.backfill_step(v_phase, v_size, p_tenant_ids);
                    EXIT;
                EXCEPTION
                    WHEN lock_not_available THEN
                        v_attempts := v_attempts + 1;
                        IF v_attempts > p_lock_retries THEN
                            RAISE EXCEPTION 'backfill %: rows stayed locked by another transaction through % attempts (lock_timeout %)',
                                v_phase, v_attempts, pg_catalog.current_setting('lock_timeout')
                                USING ERRCODE = 'lock_not_available',
                                      HINT = 'find the blocking transaction in pg_stat_activity, let it finish or end it, then run the backfill again: it resumes at the last committed batch';
                        END IF;
                        -- float8 everywhere: each operator then has an exact match in pg_catalog (searched
                        -- before public unless a caller's search_path says otherwise), so an operator
                        -- planted in public with closer argument types cannot stand in for it.
                        PERFORM pg_catalog.pg_sleep(LEAST(0.1::float8 * 2::float8 ^ v_attempts::float8, 5::float8));
                    WHEN query_canceled THEN
                        -- only a statement_timeout halves the batch; an operator's cancel stops the run
                        IF SQLERRM NOT LIKE '%statement timeout%' OR v_size = 1 THEN
                            RAISE;
                        END IF;
                        v_size := GREATEST(v_size / 2, 1);
                        RAISE NOTICE 'backfill %: statement timeout, batch size halved to %', v_phase, v_size;
                END;
            END LOOP;
            v_changed := v_changed + v_step.rows_changed;
            COMMIT;
            EXIT WHEN v_step.finished;
        END LOOP;
        RAISE NOTICE 'backfill %: done, % rows changed', v_phase, v_changed;
    END LOOP;
END
$$;

-- 30_pending.sql — what a backfill would change, without changing it (dry-run planning).
--
-- What: voice_migration.backfill_pending(phase, tenant_ids) -> how many rows the phase would write:
--         configs : unmigrated configs that would become v2 (quarantined ones do not change);
--         calls   : calls without an outcome;
--         metrics : metrics rows that would be inserted, updated or deleted (computes them all:
--                   seconds on a million calls, read-only; while voice_agent_metrics is empty,
--                   as on a first run, it only counts the configs that have calls).
-- Inputs: tenant_ids NULL = every tenant.  Re-run: safe; read-only.

CREATE OR REPLACE FUNCTION voice_migration.backfill_pending(p_phase text, p_tenant_ids text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
#variable_conflict use_column
DECLARE
    v_count bigint;
BEGIN
    IF p_phase = 'configs' THEN
        SELECT count(*) INTO v_count
        FROM voice_migration.derive_configs(ARRAY(
            SELECT c FROM public.voice_agent_configs AS c
            WHERE c.schema_version IS NULL AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids)))) AS d
        WHERE cardinality(d.reasons) = 0;
    ELSIF p_phase = 'calls' THEN
        SELECT count(*) INTO v_count FROM public.voice_agent_calls AS c
        WHERE c.outcome_code IS NULL AND (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids));
    ELSIF p_phase = 'metrics' AND NOT EXISTS (SELECT FROM public.voice_agent_metrics) THEN
        -- The first run: nothing to update or delete, so each config with calls is one insert.
        -- Counted through the calls index instead of computing every metric (the general case
        -- below costs as much as the metrics phase itself: ~11 s on a million calls).
        SELECT count(*) INTO v_count
        FROM public.voice_agent_configs AS c
        WHERE (p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids))
          AND EXISTS (SELECT FROM public.voice_agent_calls AS k
                      WHERE k.tenant_id = c.tenant_id AND k.config_id = c.id);
    ELSIF p_phase = 'metrics' THEN
        WITH d AS MATERIALIZED (
            SELECT * FROM voice_migration.derive_metrics(ARRAY(
                SELECT c FROM public.voice_agent_configs AS c
                WHERE p_tenant_ids IS NULL OR c.tenant_id = ANY (p_tenant_ids)))
        )
        SELECT (SELECT count(*) FROM d LEFT JOIN public.voice_agent_metrics AS m ON m.config_id = d.config_id
                WHERE (m.tenant_id, m.total_calls, m.avg_duration_seconds, m.p50_latency_ms,
                       m.p95_latency_ms, m.p99_latency_ms, m.outcome_counts, m.error_rate,
                       m.first_call_at, m.last_call_at)
                      IS DISTINCT FROM
                      (d.tenant_id, d.total_calls, d.avg_duration_seconds, d.p50_latency_ms,
                       d.p95_latency_ms, d.p99_latency_ms, d.outcome_counts, d.error_rate,
                       d.first_call_at, d.last_call_at))
             + (SELECT count(*) FROM public.voice_agent_metrics AS m
                WHERE (p_tenant_ids IS NULL OR m.tenant_id = ANY (p_tenant_ids))
                  AND NOT EXISTS (SELECT FROM d WHERE d.config_id = m.config_id))
        INTO v_count;
    ELSE
        RAISE EXCEPTION 'unknown backfill phase %', quote_nullable(p_phase)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'use configs, calls or metrics';
    END IF;
    RETURN v_count;
END
$$;

-- 30_v2_columns.sql — the v2 columns, the metrics table and the v2 constraints (DESIGN.md section 3).
--
-- What: adds the v2 columns to voice_agent_configs and voice_agent_calls (nullable, no default: a
--       catalog-only change, no table rewrite), creates voice_agent_metrics with row-level security,
--       and adds every v2 CHECK constraint as NOT VALID: existing rows are not scanned now, new
--       writes are checked at once; 0004_v2_backfill validates them after the backfill.
--       Catalog membership (capabilities, outcome codes) is enforced by the catalog-guard
--       triggers of sql/expand/40_triggers.sql, set-based per statement.
-- Inputs: the v1 tables; voice_migration.sorted_distinct (sql/transform/10_normalise.sql).
-- Re-run: no (plain ADD COLUMN / CREATE TABLE); the downgrade removes all of it.
-- Locks: one short ACCESS EXCLUSIVE per table (bounded by lock_timeout); nothing is rewritten.

ALTER TABLE voice_agent_configs
    ADD COLUMN assistant_type text,
    ADD COLUMN voice_config   jsonb,
    ADD COLUMN personality    jsonb,
    ADD COLUMN capabilities   text[],
    ADD COLUMN schema_version text,
    ADD COLUMN migrated_at    timestamptz,
    ADD COLUMN migrated_from  text,
    ADD CONSTRAINT voice_agent_configs_assistant_type_check
        CHECK (assistant_type IN ('inbound', 'outbound', 'hybrid')) NOT VALID,
    -- CASE fixes the evaluation order: a non-number speed is a violation, not a cast error.
    ADD CONSTRAINT voice_agent_configs_voice_config_check CHECK (
        jsonb_typeof(voice_config) = 'object'
        AND jsonb_typeof(voice_config -> 'voice_id') = 'string'
        AND jsonb_typeof(voice_config -> 'language') = 'string'
        AND CASE WHEN voice_config -> 'speed' IS NULL THEN true
                 WHEN jsonb_typeof(voice_config -> 'speed') = 'number'
                      THEN (voice_config ->> 'speed')::numeric BETWEEN 0.5 AND 2.0
                 ELSE false END
        AND CASE WHEN voice_config -> 'pitch' IS NULL THEN true
                 WHEN jsonb_typeof(voice_config -> 'pitch') = 'number'
                      THEN (voice_config ->> 'pitch')::numeric BETWEEN 0.5 AND 2.0
                 ELSE false END) NOT VALID,
    ADD CONSTRAINT voice_agent_configs_personality_check CHECK (
        jsonb_typeof(personality) = 'object'
        AND jsonb_typeof(personality -> 'base_prompt') = 'string'
        AND coalesce(jsonb_typeof(personality -> 'special_instructions'), 'array') = 'array'
        AND coalesce(jsonb_typeof(personality -> 'greeting_message'), 'string') = 'string'
        AND coalesce(jsonb_typeof(personality -> 'farewell_message'), 'string') = 'string') NOT VALID,
    ADD CONSTRAINT voice_agent_configs_capabilities_check
        CHECK (capabilities = voice_migration.sorted_distinct(capabilities)) NOT VALID,
    ADD CONSTRAINT voice_agent_configs_schema_version_check CHECK (schema_version = 'v2') NOT VALID,
    ADD CONSTRAINT voice_agent_configs_migrated_from_check CHECK (migrated_from = 'v1') NOT VALID,
    -- A migrated config is complete; a quarantined one keeps every v2 column NULL (INTERNALS.md).
    ADD CONSTRAINT voice_agent_configs_v2_complete_check CHECK (
        schema_version IS NULL
        OR (assistant_type IS NOT NULL AND voice_config IS NOT NULL AND personality IS NOT NULL
            AND capabilities IS NOT NULL)) NOT VALID;

ALTER TABLE voice_agent_calls
    ADD COLUMN outcome_code   text,
    ADD COLUMN outcome_source text,
    ADD CONSTRAINT voice_agent_calls_outcome_source_check
        CHECK (outcome_source IN ('manual', 'inferred')) NOT VALID,
    ADD CONSTRAINT voice_agent_calls_outcome_pair_check
        CHECK ((outcome_code IS NULL) = (outcome_source IS NULL)) NOT VALID;

-- One row per config that has calls. config_id is unique (DESIGN.md); tenant_id rides along on
-- every row so that queries and a future Citus distribution can route by tenant.
CREATE TABLE voice_agent_metrics (
    tenant_id            text NOT NULL,
    config_id            text NOT NULL,
    total_calls          bigint NOT NULL CHECK (total_calls > 0),
    avg_duration_seconds numeric,
    p50_latency_ms       double precision,
    p95_latency_ms       double precision,
    p99_latency_ms       double precision,
    outcome_counts       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(outcome_counts) = 'object'),
    error_rate           numeric NOT NULL CHECK (error_rate BETWEEN 0 AND 1),
    first_call_at        timestamptz,
    last_call_at         timestamptz,
    computed_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT voice_agent_metrics_config_id_key UNIQUE (config_id)
);
CREATE INDEX voice_agent_metrics_tenant_idx ON voice_agent_metrics (tenant_id, config_id);
-- Supabase serves public through its REST API: no policy = no rows for API roles until the
-- platform adds its own tenant policy; the owner (migrations, backfill) is not affected.
ALTER TABLE voice_agent_metrics ENABLE ROW LEVEL SECURITY;

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

UPDATE alembic_version SET version_num='0003_v2_expand' WHERE alembic_version.version_num = '0002_v2_flags';

COMMIT;

BEGIN;

-- Running upgrade 0003_v2_expand -> 0004_v2_backfill

SET lock_timeout = '2s';

SET statement_timeout = '0';

COMMIT;

-- 40_index.sql — the index the transformation routes through: calls by (tenant_id, config_id).
--
-- What: builds voice_agent_calls_tenant_config_idx CONCURRENTLY (v1 writers are never blocked),
--       before the backfill, because the configs phase (call directions), the metrics phase and the
--       dual-write trigger look calls up by their config, always together with the tenant.
-- Inputs: none. Must run outside a transaction block (alembic autocommit_block; psql autocommit).
-- Re-run: safe (IF NOT EXISTS). If a build was interrupted, PostgreSQL leaves an INVALID index that
--         IF NOT EXISTS would keep: drop it (DROP INDEX CONCURRENTLY voice_agent_calls_tenant_config_idx)
--         and run again (docs/transform.md).

CREATE INDEX CONCURRENTLY IF NOT EXISTS voice_agent_calls_tenant_config_idx
    ON voice_agent_calls (tenant_id, config_id) INCLUDE (direction);

CALL voice_migration.backfill(5000);

BEGIN;

-- 50_validate.sql — validate the v2 constraints added NOT VALID by 0003_v2_expand.
--
-- What: VALIDATE CONSTRAINT for every v2 CHECK: a scan under SHARE UPDATE EXCLUSIVE, which does not
--       block reads or writes; it fails (and the revision rolls back) if any row breaks one.
-- Inputs: none.  Re-run: safe (validating a valid constraint is a no-op).

ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_assistant_type_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_voice_config_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_personality_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_capabilities_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_schema_version_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_migrated_from_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_v2_complete_check;
ALTER TABLE voice_agent_calls VALIDATE CONSTRAINT voice_agent_calls_outcome_source_check;
ALTER TABLE voice_agent_calls VALIDATE CONSTRAINT voice_agent_calls_outcome_pair_check;

UPDATE alembic_version SET version_num='0004_v2_backfill' WHERE alembic_version.version_num = '0003_v2_expand';

COMMIT;

