-- downgrade.sql — remove the rollout flags, keeping a copy of their content (DESIGN.md section 5).
--
-- What: appends the current content of voice_agent_v2_flags, voice_agent_v2_tenant_overrides and
--   voice_agent_v2_flag_audit to voice_migration.downgrade_archive_v2_flags / _v2_tenant_overrides /
--   _v2_flag_audit (created when missing, each row stamped with `archived_at`), then drops the
--   three tables, their triggers and every function of revision 0002_v2_flags. The archive survives
--   later upgrades and downgrades (each downgrade appends); a new upgrade starts again disabled at 0 %.
--   The archive is in the voice_migration schema, which PUBLIC cannot read.
-- Inputs: none. Run by the downgrade of revision 0002_v2_flags.
-- Re-run: not safe once the tables are gone (the DROPs fail); the archive itself is append-only.

CREATE SCHEMA IF NOT EXISTS voice_migration;
REVOKE ALL ON SCHEMA voice_migration FROM PUBLIC;

CREATE TABLE IF NOT EXISTS voice_migration.downgrade_archive_v2_flags (
    archived_at        timestamptz NOT NULL,
    enabled            boolean,
    rollout_percentage integer,
    updated_at         timestamptz,
    updated_by         text,
    step_started_at    timestamptz
);
INSERT INTO voice_migration.downgrade_archive_v2_flags
SELECT now(), enabled, rollout_percentage, updated_at, updated_by, step_started_at
  FROM voice_agent_v2_flags;

CREATE TABLE IF NOT EXISTS voice_migration.downgrade_archive_v2_tenant_overrides (
    archived_at timestamptz NOT NULL,
    tenant_id   text,
    enabled     boolean,
    reason      text,
    updated_at  timestamptz,
    updated_by  text
);
INSERT INTO voice_migration.downgrade_archive_v2_tenant_overrides
SELECT now(), tenant_id, enabled, reason, updated_at, updated_by
  FROM voice_agent_v2_tenant_overrides;

CREATE TABLE IF NOT EXISTS voice_migration.downgrade_archive_v2_flag_audit (
    archived_at timestamptz NOT NULL,
    id          bigint,
    changed_at  timestamptz,
    changed_by  text,
    db_user     text,
    level       text,
    action      text,
    tenant_id   text,
    old_value   jsonb,
    new_value   jsonb,
    reason      text
);
INSERT INTO voice_migration.downgrade_archive_v2_flag_audit
SELECT now(), id, changed_at, changed_by, db_user, level, action, tenant_id, old_value, new_value, reason
  FROM voice_agent_v2_flag_audit;

REVOKE ALL ON voice_migration.downgrade_archive_v2_flags,
              voice_migration.downgrade_archive_v2_tenant_overrides,
              voice_migration.downgrade_archive_v2_flag_audit FROM PUBLIC;

-- Takes the flags row type as its argument type, so it goes before the table.
DROP FUNCTION voice_agent_v2_only_filter_grew(voice_agent_v2_flags, voice_agent_v2_flags);
DROP TABLE voice_agent_v2_flag_audit, voice_agent_v2_tenant_overrides, voice_agent_v2_flags;

DROP FUNCTION voice_agent_v2_enabled(text),
              voice_agent_v2_bucket(text),
              voice_agent_v2_override_bits(text),
              voice_agent_v2_track_overrides(),
              voice_agent_v2_stamp_change(),
              voice_agent_v2_audit_change(),
              voice_agent_v2_notify_change(),
              voice_agent_v2_refuse_change(),
              voice_agent_v2_change_actor();
