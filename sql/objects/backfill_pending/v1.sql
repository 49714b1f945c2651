-- backfill_pending v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.backfill_pending, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/70_backfill_pending.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
