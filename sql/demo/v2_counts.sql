-- v2_counts.sql — how far the v2 backfill got: migrated configs, calls with an outcome, metrics.
--
-- What: one row: configs, configs with schema_version 'v2', configs in quarantine, calls, calls
--       with an outcome_code, voice_agent_metrics rows.
-- Inputs: none; needs the v2 schema (revision 0003_v2_expand or later).
-- Re-run: safe (read-only).

SELECT (SELECT count(*) FROM voice_agent_configs)                               AS configs,
       (SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2')   AS configs_v2,
       (SELECT count(*) FROM voice_migration.quarantine WHERE entity = 'config') AS configs_quarantined,
       (SELECT count(*) FROM voice_agent_calls)                                 AS calls,
       (SELECT count(*) FROM voice_agent_calls WHERE outcome_code IS NOT NULL)  AS calls_with_outcome,
       (SELECT count(*) FROM voice_agent_metrics)                               AS metrics
