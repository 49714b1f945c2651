-- limit_configs.sql — the honest limit's configs transform: one UPDATE, hand-written, no project function.
--
-- What: the v2 values of every config whose v2 fields can be derived, with today's rules hard-coded
--       (sql/catalogs/30_rules.sql as CASE / regex / jsonb_build_object): the language map, call
--       directions (grouped per config and raw spelling first, normalised per group), capability and
--       assistant-type keywords (strpos of ' ' || keyword in the folded prompt: at the start of a word), greeting /
--       farewell / instruction lines (label before ':' or a bullet). Configs that `migrate` would
--       quarantine (no voice_id, empty prompt, unknown language, missing tenant) stay in v1 shape.
--       The fold is written out inline: NFD, accents dropped, lower case, other runs one space.
-- Inputs: a database at Alembic head whose backfill has not run. Calls a no project function.
-- Re-run: safe (only rows still in v1 shape are written).

SELECT set_config('voice_migration.backfill', 'on', true);

WITH dirs AS (                  -- per config: which known directions its calls have
    SELECT g.tenant_id, g.config_id,
           bool_or(g.dir = 'in') AS has_in, bool_or(g.dir = 'out') AS has_out
    FROM (SELECT d.tenant_id, d.config_id,
                 CASE regexp_replace(lower(d.direction), '[^a-z0-9]+', '', 'g')
                     WHEN 'inbound' THEN 'in' WHEN 'in' THEN 'in' WHEN 'incoming' THEN 'in' WHEN 'inb' THEN 'in'
                     WHEN 'entrante' THEN 'in' WHEN 'entrada' THEN 'in' WHEN 'recibida' THEN 'in'
                     WHEN 'outbound' THEN 'out' WHEN 'out' THEN 'out' WHEN 'outgoing' THEN 'out'
                     WHEN 'outb' THEN 'out' WHEN 'saliente' THEN 'out' WHEN 'salida' THEN 'out'
                     WHEN 'realizada' THEN 'out' END AS dir
          FROM (SELECT k.tenant_id, k.config_id, k.direction FROM voice_agent_calls AS k
                GROUP BY 1, 2, 3) AS d) AS g
    WHERE g.dir IS NOT NULL
    GROUP BY 1, 2
),
v2 AS (
    SELECT c.id, c.tenant_id,
           jsonb_build_object('voice_id', c.voice_id, 'language', l.bcp47) AS voice_config,
           jsonb_build_object('base_prompt', c.prompt, 'special_instructions', coalesce(p.instructions, '[]'))
           || jsonb_strip_nulls(jsonb_build_object('greeting_message', p.greeting, 'farewell_message', p.farewell))
               AS personality,
           array_remove(ARRAY[
               CASE WHEN (strpos(f.t, ' agendar') > 0 OR strpos(f.t, ' agenda citas') > 0 OR strpos(f.t, ' reservar cita') > 0 OR strpos(f.t, ' programar cita') > 0 OR strpos(f.t, ' sacar cita') > 0 OR strpos(f.t, ' book appointment') > 0 OR strpos(f.t, ' book an appointment') > 0 OR strpos(f.t, ' schedule appointment') > 0 OR strpos(f.t, ' schedule an appointment') > 0 OR strpos(f.t, ' make an appointment') > 0 OR strpos(f.t, ' appointment booking') > 0)
                    THEN 'appointment_booking' END,
               CASE WHEN (strpos(f.t, ' reprogramar') > 0 OR strpos(f.t, ' reagendar') > 0 OR strpos(f.t, ' cambiar la cita') > 0 OR strpos(f.t, ' reschedule') > 0 OR strpos(f.t, ' rescheduling') > 0)
                    THEN 'appointment_rescheduling' END,
               CASE WHEN (strpos(f.t, ' llamada de regreso') > 0 OR strpos(f.t, ' devolver la llamada') > 0 OR strpos(f.t, ' call back') > 0 OR strpos(f.t, ' callback') > 0)
                    THEN 'callback_scheduling' END,
               CASE WHEN (strpos(f.t, ' faq') > 0 OR strpos(f.t, ' preguntas frecuentes') > 0 OR strpos(f.t, ' frequently asked') > 0 OR strpos(f.t, ' opening hours') > 0 OR strpos(f.t, ' business hours') > 0 OR strpos(f.t, ' horario') > 0)
                    THEN 'faq' END,
               CASE WHEN (strpos(f.t, ' transfiere a un humano') > 0 OR strpos(f.t, ' transferir a un humano') > 0 OR strpos(f.t, ' agente humano') > 0 OR strpos(f.t, ' transfer to a human') > 0 OR strpos(f.t, ' transfer to a person') > 0 OR strpos(f.t, ' human agent') > 0)
                    THEN 'human_transfer' END,
               CASE WHEN (strpos(f.t, ' califica leads') > 0 OR strpos(f.t, ' calificar leads') > 0 OR strpos(f.t, ' califica prospectos') > 0 OR strpos(f.t, ' calificar prospectos') > 0 OR strpos(f.t, ' qualify leads') > 0 OR strpos(f.t, ' lead qualification') > 0)
                    THEN 'lead_qualification' END,
               CASE WHEN (strpos(f.t, ' take orders') > 0 OR strpos(f.t, ' take an order') > 0 OR strpos(f.t, ' taking orders') > 0 OR strpos(f.t, ' tomar pedidos') > 0 OR strpos(f.t, ' toma pedidos') > 0 OR strpos(f.t, ' tomar el pedido') > 0)
                    THEN 'order_taking' END,
               CASE WHEN (strpos(f.t, ' payment') > 0 OR strpos(f.t, ' pago') > 0 OR strpos(f.t, ' cobrar') > 0 OR strpos(f.t, ' cobro') > 0) THEN 'payments' END,
               CASE WHEN (strpos(f.t, ' remind') > 0 OR strpos(f.t, ' recordatorio') > 0) THEN 'reminders' END,
               CASE WHEN (strpos(f.t, ' reservation') > 0 OR strpos(f.t, ' reservacion') > 0 OR strpos(f.t, ' reservar mesa') > 0 OR strpos(f.t, ' reservar una mesa') > 0 OR strpos(f.t, ' reserve a table') > 0 OR strpos(f.t, ' book a table') > 0)
                    THEN 'reservations' END,
               CASE WHEN (strpos(f.t, ' encuesta') > 0 OR strpos(f.t, ' survey') > 0) THEN 'surveys' END,
               CASE WHEN (strpos(f.t, ' mensaje de voz') > 0 OR strpos(f.t, ' buzon de voz') > 0 OR strpos(f.t, ' voicemail') > 0 OR strpos(f.t, ' voice mail') > 0) THEN 'voicemail_handling' END
           ], NULL) AS capabilities,
           CASE WHEN d.has_in AND d.has_out THEN 'hybrid'
                WHEN d.has_in THEN 'inbound'
                WHEN d.has_out THEN 'outbound'
                WHEN f.says_in AND f.says_out THEN 'hybrid'
                WHEN f.says_out THEN 'outbound'
                ELSE 'inbound' END AS assistant_type
    FROM voice_agent_configs AS c
    JOIN tenants AS t ON t.id = c.tenant_id
    CROSS JOIN LATERAL (
        SELECT x.t,
               (strpos(x.t, ' recepcionista') > 0 OR strpos(x.t, ' receptionist') > 0 OR strpos(x.t, ' gracias por llamar') > 0 OR strpos(x.t, ' thanks for calling') > 0 OR strpos(x.t, ' support line') > 0 OR strpos(x.t, ' atiende llamadas') > 0 OR strpos(x.t, ' answer calls') > 0 OR strpos(x.t, ' phone host') > 0 OR strpos(x.t, ' llamadas entrantes') > 0 OR strpos(x.t, ' inbound') > 0) AS says_in,
               (strpos(x.t, ' llamas a') > 0 OR strpos(x.t, ' que llama a') > 0 OR strpos(x.t, ' you call') > 0 OR strpos(x.t, ' call customers') > 0 OR strpos(x.t, ' call prospects') > 0 OR strpos(x.t, ' llamadas salientes') > 0 OR strpos(x.t, ' outbound') > 0) AS says_out
        FROM (SELECT ' ' || btrim(regexp_replace(lower(regexp_replace(normalize(c.prompt, NFD), '[\u0300-\u036f]+', '', 'g')),
                                                 '[^a-z0-9]+', ' ', 'g')) || ' ' AS t
              OFFSET 0) AS x              -- OFFSET 0: fold each prompt once, not once per keyword
    ) AS f
    CROSS JOIN LATERAL (
        SELECT CASE replace(btrim(regexp_replace(lower(regexp_replace(normalize(m.word, NFD), '[\u0300-\u036f]+', '', 'g')),
                                                 '[^a-z0-9]+', ' ', 'g')), ' ', '')
                   WHEN 'es' THEN 'es' WHEN 'spa' THEN 'es' WHEN 'spanish' THEN 'es' WHEN 'espanol' THEN 'es'
                   WHEN 'castellano' THEN 'es'
                   WHEN 'en' THEN 'en' WHEN 'eng' THEN 'en' WHEN 'english' THEN 'en' WHEN 'ingles' THEN 'en'
                   WHEN 'pt' THEN 'pt' WHEN 'por' THEN 'pt' WHEN 'portuguese' THEN 'pt' WHEN 'portugues' THEN 'pt'
                   WHEN 'fr' THEN 'fr' WHEN 'fra' THEN 'fr' WHEN 'fre' THEN 'fr' WHEN 'french' THEN 'fr'
                   WHEN 'frances' THEN 'fr' WHEN 'francais' THEN 'fr'
                   WHEN 'de' THEN 'de' WHEN 'deu' THEN 'de' WHEN 'ger' THEN 'de' WHEN 'german' THEN 'de'
                   WHEN 'aleman' THEN 'de' WHEN 'deutsch' THEN 'de'
                   WHEN 'it' THEN 'it' WHEN 'ita' THEN 'it' WHEN 'italian' THEN 'it' WHEN 'italiano' THEN 'it'
                   WHEN 'ca' THEN 'ca' WHEN 'cat' THEN 'ca' WHEN 'catalan' THEN 'ca' WHEN 'catala' THEN 'ca'
                   WHEN 'nl' THEN 'nl' WHEN 'nld' THEN 'nl' WHEN 'dutch' THEN 'nl' WHEN 'neerlandes' THEN 'nl'
               END || coalesce('-' || upper(m.region), '') AS bcp47
        FROM (SELECT coalesce(r.parts[1], c.language) AS word, r.parts[2] AS region
              FROM (SELECT regexp_match(btrim(c.language), '^([A-Za-z]+)(?:[-_ ]([A-Za-z]{2}|[0-9]{3}))?$') AS parts) AS r
             ) AS m
    ) AS l
    LEFT JOIN dirs AS d ON d.tenant_id = c.tenant_id AND d.config_id = c.id
    CROSS JOIN LATERAL (
        SELECT jsonb_agg(m.body ORDER BY m.n) FILTER (WHERE m.kind = 'instruction') AS instructions,
               (array_agg(m.body ORDER BY m.n) FILTER (WHERE m.kind = 'greeting'))[1] AS greeting,
               (array_agg(m.body ORDER BY m.n) FILTER (WHERE m.kind = 'farewell'))[1] AS farewell
        FROM (SELECT x.n, k.kind,
                     btrim(CASE WHEN k.labelled THEN substr(x.t, strpos(x.t, ':') + 1) ELSE substr(x.t, 2) END,
                           E' \t') AS body
              FROM (SELECT s.n, btrim(s.line, E' \t') AS t
                    FROM regexp_split_to_table(c.prompt, E'\r\n|\n|\r') WITH ORDINALITY AS s (line, n)) AS x
              CROSS JOIN LATERAL (
                  SELECT CASE WHEN strpos(x.t, ':') BETWEEN 2 AND 41 THEN
                             CASE btrim(regexp_replace(lower(regexp_replace(normalize(left(x.t, strpos(x.t, ':') - 1), NFD),
                                                                           '[\u0300-\u036f]+', '', 'g')),
                                                       '[^a-z0-9]+', ' ', 'g'))
                                 WHEN 'saludo' THEN 'greeting' WHEN 'saludo inicial' THEN 'greeting'
                                 WHEN 'bienvenida' THEN 'greeting' WHEN 'mensaje de bienvenida' THEN 'greeting'
                                 WHEN 'greeting' THEN 'greeting' WHEN 'welcome message' THEN 'greeting'
                                 WHEN 'opening line' THEN 'greeting'
                                 WHEN 'despedida' THEN 'farewell' WHEN 'mensaje de despedida' THEN 'farewell'
                                 WHEN 'farewell' THEN 'farewell' WHEN 'goodbye' THEN 'farewell'
                                 WHEN 'closing line' THEN 'farewell'
                                 WHEN 'instruccion' THEN 'instruction' WHEN 'instrucciones' THEN 'instruction'
                                 WHEN 'instruccion especial' THEN 'instruction'
                                 WHEN 'instrucciones especiales' THEN 'instruction'
                                 WHEN 'nota' THEN 'instruction' WHEN 'importante' THEN 'instruction'
                                 WHEN 'regla' THEN 'instruction' WHEN 'instruction' THEN 'instruction'
                                 WHEN 'instructions' THEN 'instruction' WHEN 'special instruction' THEN 'instruction'
                                 WHEN 'special instructions' THEN 'instruction' WHEN 'note' THEN 'instruction'
                                 WHEN 'important' THEN 'instruction' WHEN 'rule' THEN 'instruction' END
                         END AS label
              ) AS lb
              CROSS JOIN LATERAL (
                  SELECT lb.label IS NOT NULL AS labelled,
                         coalesce(lb.label, CASE left(x.t, 1) WHEN '-' THEN 'instruction' WHEN '*' THEN 'instruction'
                                                WHEN '•' THEN 'instruction' WHEN '–' THEN 'instruction'
                                                WHEN '·' THEN 'instruction' END) AS kind
              ) AS k
              WHERE k.kind IS NOT NULL) AS m
        WHERE m.body <> ''
    ) AS p
    WHERE nullif(btrim(c.voice_id, E' \t\r\n'), '') IS NOT NULL
      AND btrim(c.prompt, E' \t\r\n') <> ''
)
UPDATE voice_agent_configs AS c
SET assistant_type = v2.assistant_type, voice_config = v2.voice_config, personality = v2.personality,
    capabilities = v2.capabilities, schema_version = 'v2', migrated_at = now(), migrated_from = 'v1'
FROM v2
WHERE c.id = v2.id AND v2.voice_config ->> 'language' IS NOT NULL AND c.schema_version IS NULL;
