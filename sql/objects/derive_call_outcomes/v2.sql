-- derive_call_outcomes v2 — outcomes from the compiled rules (issue #16).
--
-- What: the function voice_migration.derive_call_outcomes(calls[]) -> (id, tenant_id, outcome_code,
--       outcome_source), same result as v1 for every input. v1 matched every distinct outcome, status
--       and ended reason pair and transcript against the rule rows with LATERAL joins (a sort and a
--       LIMIT each), plus one LATERAL short-call lookup per call; v2 evaluates the rules compiled by
--       compile_rules() (one CASE per stage, rules_outcome_*) once per distinct value, and per call only
--       the short-call CASE on the duration class, then least() of the stage priorities. Refuses stale compiled rules: the stamp of rules_compiled() must
--       equal rules_checksum() (one small aggregate per batch).
-- Inputs: rules_compiled, rules_outcome_*, rules_checksum, normalize_key, fold_text.
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.derive_call_outcomes(p_calls voice_agent_calls[])
RETURNS TABLE (id text, tenant_id text, outcome_code text, outcome_source text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_stamp   text;
    v_seconds numeric[];
    v_never   integer;
BEGIN
    SELECT r.rules_checksum, r.short_call_seconds INTO v_stamp, v_seconds FROM voice_migration.rules_compiled() AS r;
    IF v_stamp IS DISTINCT FROM voice_migration.rules_checksum() THEN
        RAISE EXCEPTION 'the compiled outcome rules are stale: they were compiled from other rule rows than voice_migration.outcome_rules and legacy_outcome_map hold now'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'run SELECT voice_migration.compile_rules(); (the *_recompile triggers do it on every change unless disabled), then run the backfill again';
    END IF;
    v_never := cardinality(v_seconds);   -- a NULL duration is shorter than no threshold
    -- NULL and '' behave alike for every rule (no rule matches ''), so coalesce(x, '') gives
    -- hashable join keys.
    RETURN QUERY
    WITH src AS MATERIALIZED (
        SELECT s.id, s.tenant_id,
               coalesce(s.outcome, '') AS outcome, coalesce(s.status, '') AS status,
               coalesce(s.ended_reason, '') AS ended_reason, coalesce(s.transcript, '') AS transcript,
               coalesce(width_bucket(s.duration_seconds, v_seconds), v_never) AS duration_class
        FROM unnest(p_calls) AS s
    ),
    manual AS MATERIALIZED (             -- MATERIALIZED: normalise per distinct value, not per row
        SELECT o.outcome, voice_migration.rules_outcome_manual(voice_migration.normalize_key(o.outcome)) AS code
        FROM (SELECT DISTINCT s.outcome FROM src AS s) AS o
    ),
    by_status AS MATERIALIZED (          -- status and ended_reason rules, per distinct pair
        SELECT p.status, p.ended_reason, k.status_key = 'completed' AS completed,
               voice_migration.rules_outcome_status(k.status_key, k.ended_key) AS priority
        FROM (SELECT DISTINCT s.status, s.ended_reason FROM src AS s) AS p
        CROSS JOIN LATERAL (SELECT voice_migration.normalize_key(p.status) AS status_key,
                                   voice_migration.normalize_key(p.ended_reason) AS ended_key) AS k
    ),
    by_transcript AS MATERIALIZED (      -- transcript rules, per distinct transcript
        SELECT t.transcript, voice_migration.rules_outcome_transcript(voice_migration.fold_text(t.transcript)) AS priority
        FROM (SELECT DISTINCT s.transcript FROM src AS s) AS t
    ),
    by_duration AS MATERIALIZED (        -- short-call rules of a completed call, per duration class
        SELECT d.duration_class, voice_migration.rules_outcome_short(true, d.duration_class) AS priority
        FROM (SELECT DISTINCT s.duration_class FROM src AS s) AS d
    ),
    decided AS (
        SELECT s.id, s.tenant_id, m.code AS manual_code,
               least(bs.priority, bt.priority, CASE WHEN bs.completed THEN bd.priority END) AS priority
        FROM src AS s
        JOIN manual AS m ON m.outcome = s.outcome
        JOIN by_status AS bs ON bs.status = s.status AND bs.ended_reason = s.ended_reason
        JOIN by_transcript AS bt ON bt.transcript = s.transcript
        JOIN by_duration AS bd ON bd.duration_class = s.duration_class
    ),
    codes AS MATERIALIZED (              -- the winning rule's outcome, per distinct priority
        SELECT p.priority, voice_migration.rules_outcome_code(p.priority) AS code
        FROM (SELECT DISTINCT d.priority FROM decided AS d WHERE d.manual_code IS NULL) AS p
    )
    SELECT d.id, d.tenant_id, coalesce(d.manual_code, c.code, 'other'),
           CASE WHEN d.manual_code IS NOT NULL THEN 'manual' ELSE 'inferred' END
    FROM decided AS d
    LEFT JOIN codes AS c ON c.priority = d.priority AND d.manual_code IS NULL;
END
$$;
