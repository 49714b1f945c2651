-- derive_configs v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.derive_configs, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/45_transform_configs.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
