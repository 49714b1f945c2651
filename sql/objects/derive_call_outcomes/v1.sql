-- derive_call_outcomes v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.derive_call_outcomes, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/50_transform_calls.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
