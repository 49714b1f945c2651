-- 10_drop_monitoring.sql — the downgrade of 0010_monitoring: drop the monitoring view and function.
--
-- What: drops voice_migration.migration_progress and voice_migration.rollout_cohorts (both new in 0010).
--       They hold no data; a role's grants on them go with them (re-run sql/security/monitoring_role.sql
--       after upgrading again). The index is dropped CONCURRENTLY by the revision, outside the transaction.
-- Inputs: none. Run by the downgrade of revision 0010_monitoring.
-- Re-run: safe (IF EXISTS).

DROP VIEW IF EXISTS voice_migration.migration_progress;
DROP FUNCTION IF EXISTS voice_migration.rollout_cohorts(interval, timestamptz);
