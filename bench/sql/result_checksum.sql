-- result_checksum.sql — fingerprints of the v2 result, to show every contender produced the same data.
--
-- What: one md5 per table over the v2 columns only (ordered by key): configs (v2 columns, without
--       migrated_at), calls (outcome_code, outcome_source) and voice_agent_metrics (without computed_at).
--       Timestamps of the run itself are left out: they differ by design.
-- Inputs: a database at Alembic head. Run as a superuser or the table owner (RLS on the metrics).
-- Re-run: safe (read-only).

SELECT
    (SELECT coalesce(md5(string_agg(ROW(c.id, c.assistant_type, c.voice_config, c.personality, c.capabilities,
                                         c.schema_version, c.migrated_from)::text, E'\n' ORDER BY c.id)), 'empty')
     FROM voice_agent_configs AS c) AS configs,
    (SELECT coalesce(md5(string_agg(ROW(c.id, c.outcome_code, c.outcome_source)::text, E'\n' ORDER BY c.id)), 'empty')
     FROM voice_agent_calls AS c) AS calls,
    (SELECT coalesce(md5(string_agg(ROW(m.config_id, m.tenant_id, m.total_calls, m.avg_duration_seconds,
                                         m.p50_latency_ms, m.p95_latency_ms, m.p99_latency_ms, m.outcome_counts,
                                         m.error_rate, m.first_call_at, m.last_call_at)::text,
                                     E'\n' ORDER BY m.config_id)), 'empty')
     FROM voice_agent_metrics AS m) AS metrics;
