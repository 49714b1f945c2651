-- backfill_step v2 — one batch of one backfill phase; the phases come from the registry (issues #13, #16).
--
-- What: the function voice_migration.backfill_step(phase, batch_size, tenant_ids) -> (last_key, rows_done,
--       rows_changed, quarantined, finished), as v1 (sql/revisions/0003_v2_expand/60_backfill_step.objects
--       explains the design), except that the known phases are voice_migration.backfill_phases() instead of
--       a list of its own. The outcome rules it applies through derive_call_outcomes are the compiled ones
--       (derive_call_outcomes v2), which refuse to run when stale.
-- Inputs: the tables, types and functions it names; backfill_phases.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.backfill_step(
    p_phase text, p_batch_size integer, p_tenant_ids text[] DEFAULT NULL)
RETURNS TABLE (last_key text, rows_done integer, rows_changed integer, quarantined integer, finished boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- The batch arrays are parameters: a custom plan sees their real size (thousands, not 10 rows).
SET plan_cache_mode = force_custom_plan
-- No JIT for a batch: the derive queries' estimates pass jit_above_cost (the per-row function calls
-- are costed high), so with PostgreSQL's default jit = on every batch of 5,000 calls compiled its
-- queries with LLVM first (35-80 ms a batch), for statements that run once over a few thousand rows:
-- the calls phase of 1M calls took 49.2 s with JIT, 42.2 s without (docs/benchmarks.md).
SET jit = off
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
    IF p_phase IS NULL OR NOT EXISTS (SELECT FROM voice_migration.backfill_phases() AS r WHERE r.phase = p_phase) THEN
        RAISE EXCEPTION 'unknown backfill phase %', quote_nullable(p_phase)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'use one of ' || (SELECT string_agg(r.phase, ', ' ORDER BY r.position)
                                           FROM voice_migration.backfill_phases() AS r);
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
