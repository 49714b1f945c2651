-- check: value_constraints
-- severity: medium
-- what: values are in their allowed sets and ranges. Migrated configs: assistant_type is inbound,
--       outbound or hybrid; capabilities are catalog codes, sorted and distinct; voice_config is an object
--       whose language is a canonical BCP 47 tag (es, es-MX, zh-Hant-TW) and whose speed and pitch, when
--       present, are numbers in [0.5, 2.0]; personality is an object whose special_instructions, when
--       set, is an array. Calls: duration_seconds and latency_ms >= 0, outcome_source is manual or
--       inferred. Metrics: counts and times >= 0, p50 <= p95 <= p99, error_rate in [0, 1], first call
--       not after the last. Flags: rollout_percentage in 0..100 (not tenant-scoped).
-- failure means: a reader may misbehave on the value (a speed of 5 distorts the voice; a negative
--       duration skews averages). The transform never writes such values into v2 columns; v1 columns are
--       copied as they are, so negative durations or latencies here are v1 data to correct at the source.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
configs AS (
    SELECT c.id, c.tenant_id, c.assistant_type, c.capabilities, c.personality, c.voice_config,
           CASE WHEN jsonb_typeof(c.voice_config) = 'object' THEN c.voice_config END AS vc
    FROM voice_agent_configs AS c, scope AS s
    WHERE c.schema_version = 'v2'
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
)
SELECT 'value_constraints' AS check_name, 'medium' AS severity, 'config' AS entity, c.id, c.tenant_id,
       v.problem AS detail
FROM configs AS c
CROSS JOIN LATERAL (VALUES
    (c.assistant_type NOT IN ('inbound', 'outbound', 'hybrid'),
     format('assistant_type %L is not inbound, outbound or hybrid', c.assistant_type)),
    (EXISTS (SELECT FROM unnest(c.capabilities) AS x (code)
             WHERE NOT EXISTS (SELECT FROM voice_migration.capability_catalog AS k WHERE k.code = x.code)),
     format('capabilities %s has codes that are not in the capability catalog', c.capabilities)),
    (c.capabilities <> ARRAY(SELECT DISTINCT x FROM unnest(c.capabilities) AS x ORDER BY 1),
     format('capabilities %s is not sorted and distinct', c.capabilities)),
    (jsonb_typeof(c.voice_config) IS DISTINCT FROM 'object', 'voice_config is not a JSON object'),
    (jsonb_typeof(c.personality) IS DISTINCT FROM 'object', 'personality is not a JSON object'),
    (c.vc ->> 'language' !~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$',
     format('voice_config.language %L is not a canonical BCP 47 tag', c.vc ->> 'language')),
    (CASE jsonb_typeof(c.vc -> 'speed') WHEN 'number' THEN (c.vc ->> 'speed')::numeric NOT BETWEEN 0.5 AND 2.0
                                       WHEN 'null' THEN false ELSE c.vc ? 'speed' END,
     format('voice_config.speed %s is not a number in [0.5, 2.0]', c.vc -> 'speed')),
    (CASE jsonb_typeof(c.vc -> 'pitch') WHEN 'number' THEN (c.vc ->> 'pitch')::numeric NOT BETWEEN 0.5 AND 2.0
                                       WHEN 'null' THEN false ELSE c.vc ? 'pitch' END,
     format('voice_config.pitch %s is not a number in [0.5, 2.0]', c.vc -> 'pitch')),
    (jsonb_typeof(c.personality -> 'special_instructions') NOT IN ('array', 'null', 'string')
     OR (jsonb_typeof(c.personality -> 'special_instructions') = 'string'
         AND btrim(c.personality ->> 'special_instructions') <> ''),
     format('personality.special_instructions %s is not an array', c.personality -> 'special_instructions'))
) AS v (bad, problem)
WHERE v.bad
UNION ALL
SELECT 'value_constraints', 'medium', 'call', k.id, k.tenant_id,
       concat_ws('; ',
                 CASE WHEN k.duration_seconds < 0 THEN format('duration_seconds %s is negative', k.duration_seconds) END,
                 CASE WHEN k.latency_ms < 0 THEN format('latency_ms %s is negative', k.latency_ms) END,
                 CASE WHEN k.outcome_source NOT IN ('manual', 'inferred')
                      THEN format('outcome_source %L is not manual or inferred', k.outcome_source) END)
FROM voice_agent_calls AS k
CROSS JOIN scope AS s
WHERE (k.duration_seconds < 0 OR k.latency_ms < 0 OR k.outcome_source NOT IN ('manual', 'inferred'))
  AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids))
UNION ALL
SELECT 'value_constraints', 'medium', 'metrics', m.config_id, m.tenant_id,
       concat_ws('; ',
                 CASE WHEN m.total_calls < 0 THEN format('total_calls %s is negative', m.total_calls) END,
                 CASE WHEN m.avg_duration_seconds < 0
                      THEN format('avg_duration_seconds %s is negative', m.avg_duration_seconds) END,
                 CASE WHEN least(m.p50_latency_ms, m.p95_latency_ms, m.p99_latency_ms) < 0
                      THEN 'a latency percentile is negative' END,
                 CASE WHEN m.p50_latency_ms > m.p95_latency_ms OR m.p95_latency_ms > m.p99_latency_ms
                      THEN format('percentiles out of order: p50 %s, p95 %s, p99 %s',
                                  m.p50_latency_ms, m.p95_latency_ms, m.p99_latency_ms) END,
                 CASE WHEN m.error_rate NOT BETWEEN 0 AND 1 THEN format('error_rate %s is not in [0, 1]', m.error_rate) END,
                 CASE WHEN m.first_call_at > m.last_call_at THEN 'first_call_at is after last_call_at' END)
FROM voice_agent_metrics AS m
CROSS JOIN scope AS s
WHERE (m.total_calls < 0 OR m.avg_duration_seconds < 0
       OR least(m.p50_latency_ms, m.p95_latency_ms, m.p99_latency_ms) < 0
       OR m.p50_latency_ms > m.p95_latency_ms OR m.p95_latency_ms > m.p99_latency_ms
       OR m.error_rate NOT BETWEEN 0 AND 1 OR m.first_call_at > m.last_call_at)
  AND (s.ids IS NULL OR m.tenant_id = ANY (s.ids))
UNION ALL
SELECT 'value_constraints', 'medium', 'flags', NULL, NULL,
       format('rollout_percentage %s is not in 0..100', f.rollout_percentage)
FROM voice_agent_v2_flags AS f
WHERE f.rollout_percentage NOT BETWEEN 0 AND 100 OR f.rollout_percentage IS NULL;
