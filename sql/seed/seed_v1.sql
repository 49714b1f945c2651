-- seed_v1.sql — fill an empty v1 database with synthetic, deterministic data (set-based).
--
-- What: inserts tenants, voice_agent_configs and voice_agent_calls with generate_series.
--       Every pseudo-random choice is hashint8extended(row number, seed + salt), so the
--       same parameters always give byte-identical rows, whatever the plan or parallelism.
-- Inputs (session settings, set by `voice-migration seed` or by hand with SET):
--       seed.tenants, seed.configs, seed.calls  — row counts (configs >= 1, tenants >= 1)
--       seed.messy                               — 'on' plants what real v1 data has (below)
--       seed.seed                                — integer seed
-- Messy cases (one of each every 64 configs / 50 calls, so 64 configs and 50 calls show them all):
--   configs: NULL prompt, empty prompt, NULL voice_id, languages es / ES / es_MX / Spanish /
--            español / en_US / english / '' / unknown, a duplicate (tenant, name), a missing
--            tenant, unicode/emoji/quote/backslash prompt, a very long prompt
--   calls:   missing config, tenant differing from the config's, legacy outcomes (Cita Agendada,
--            NO ANSWER, appointment-booked, '', NULL), directions in / OUT / NULL, negative
--            duration, NULL latency
-- Re-run: no — it inserts fixed ids; run it on empty v1 tables.

CREATE TEMP TABLE seed_params ON COMMIT DROP AS
SELECT current_setting('seed.tenants')::int             AS tenants,
       current_setting('seed.configs')::int             AS configs,
       current_setting('seed.calls')::bigint            AS calls,
       current_setting('seed.messy')::boolean           AS messy,
       current_setting('seed.seed')::bigint             AS seed,
       timestamptz '2024-01-01 00:00:00+00'             AS epoch;

INSERT INTO tenants (id, name, created_at)
SELECT 'tenant_' || lpad(t::text, 6, '0'),
       (ARRAY['Clínica', 'Restaurante', 'Dental', 'Salon', 'Taller', 'Hotel', 'Gym', 'Spa'])
           [1 + abs(hashint8extended(t, p.seed + 1)) % 8] || ' ' || t,
       p.epoch + make_interval(secs => abs(hashint8extended(t, p.seed + 2)) % 86400 * 30)
FROM seed_params p, generate_series(1, p.tenants) AS t;

INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled, created_at, updated_at)
SELECT 'cfg_' || lpad(j::text, 8, '0'),
       CASE WHEN p.messy AND j % 64 = 12 THEN 'tenant_ghost_' || j                     -- missing tenant
            ELSE 'tenant_' || lpad((1 + (j - 1) % p.tenants)::text, 6, '0') END,
       CASE WHEN p.messy AND j % 64 = 11 AND j > p.tenants                              -- duplicate name
            THEN 'Agent ' || ((j - 1) / p.tenants)
            ELSE 'Agent ' || ((j - 1) / p.tenants + 1) END,
       CASE WHEN p.messy AND j % 64 = 1 THEN NULL
            WHEN p.messy AND j % 64 = 2 THEN ''
            WHEN p.messy AND j % 64 = 13
                 THEN E'¡Hola! 👋 Soy "Ana" de O''Brien\\Co — לשלום مرحبا e\u0301\n'
                      || tpl.prompt
            WHEN p.messy AND j % 64 = 14 THEN repeat(tpl.prompt || E'\n', 200)
            ELSE tpl.prompt END,
       CASE WHEN p.messy AND j % 64 = 3 THEN NULL
            ELSE 'voice_' || abs(hashint8extended(j, p.seed + 3)) % 20 END,
       CASE WHEN NOT p.messy OR j % 64 NOT BETWEEN 4 AND 10 AND j % 64 NOT IN (15, 16, 17)
                 THEN (ARRAY['es-MX', 'en', 'es', 'en-US'])[1 + abs(hashint8extended(j, p.seed + 4)) % 4]
            -- j % 64 in 4..10: legacy spellings; 15, 16, 17: empty, unknown, NULL
            ELSE (ARRAY['es', 'ES', 'es_MX', 'Spanish', 'español', 'en_US', 'english',
                        NULL, NULL, NULL, NULL, '', 'klingon', NULL])[j % 64 - 3] END,
       abs(hashint8extended(j, p.seed + 5)) % 10 <> 0,
       p.epoch + make_interval(secs => abs(hashint8extended(j, p.seed + 6)) % (86400 * 300)),
       p.epoch + make_interval(secs => abs(hashint8extended(j, p.seed + 6)) % (86400 * 300) + 3600)
FROM seed_params p
CROSS JOIN generate_series(1, p.configs) AS j
CROSS JOIN LATERAL (
    SELECT (ARRAY[
        E'Eres la recepcionista virtual de una clínica dental.\nSaludo: ¡Hola! Gracias por llamar a la clínica, ¿en qué le puedo ayudar?\n- Siempre confirma la fecha y hora de la cita.\n- Habla de usted al paciente.\nPuedes agendar citas, reprogramar citas y responder preguntas frecuentes.\nSi el paciente lo pide, transfiere a un humano.\nDespedida: Gracias por llamar, ¡que tenga un excelente día!',
        E'You are the phone host of an Italian restaurant.\nGreeting: Hello, thanks for calling, how can I help you today?\n- Always repeat the order back to the caller.\nTake orders for pickup and make reservations for tables.\nAnswer FAQ about opening hours and the menu.\nFarewell: Thank you for calling, goodbye!',
        E'Eres un agente de ventas que llama a prospectos.\nCalifica leads: pregunta por presupuesto y necesidad.\nSi no contesta, deja un mensaje de voz.\n- No insistas si el cliente no está interesado.\nOfrece programar una llamada de regreso.',
        E'You call customers to remind them of their appointments.\nSend reminders and confirm attendance.\nIf they want, reschedule the appointment.\nCollect payment for the deposit when asked.\n- Be brief and friendly.',
        E'Asistente de encuestas de satisfacción.\nRealiza una encuesta breve de 3 preguntas al cliente.\nInstrucciones:\n- Agradece su tiempo.\n- No compartas datos personales.\nDespedida: ¡Muchas gracias por su tiempo!',
        E'Support line for a gym. Answer frequently asked questions about memberships and classes.\nIf the caller is upset, transfer to a human agent.'
    ])[1 + abs(hashint8extended(j, p.seed + 7)) % 6] AS prompt
) AS tpl;

INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, ended_reason,
                               duration_seconds, latency_ms, outcome, transcript, version, created_at)
SELECT 'call_' || lpad(i::text, 10, '0'),
       CASE WHEN p.messy AND i % 50 = 2                                              -- tenant differs
                 THEN 'tenant_' || lpad((1 + c.j % p.tenants)::text, 6, '0')
            WHEN p.messy AND c.j % 64 = 12 THEN 'tenant_ghost_' || c.j
            ELSE 'tenant_' || lpad((1 + (c.j - 1) % p.tenants)::text, 6, '0') END,
       CASE WHEN p.messy AND i % 50 = 1 THEN 'cfg_missing_' || i                        -- missing config
            ELSE 'cfg_' || lpad(c.j::text, 8, '0') END,
       CASE WHEN p.messy AND i % 50 = 3 THEN 'in'
            WHEN p.messy AND i % 50 = 4 THEN 'OUT'
            WHEN p.messy AND i % 50 = 5 THEN NULL
            WHEN c.mode = 0 THEN 'inbound'
            WHEN c.mode = 1 THEN 'outbound'
            WHEN abs(hashint8extended(i, p.seed + 11)) % 2 = 0 THEN 'inbound'
            ELSE 'outbound' END,
       s.status,
       s.ended_reason,
       CASE WHEN p.messy AND i % 50 = 6 THEN -s.duration ELSE s.duration END,
       CASE WHEN p.messy AND i % 50 = 7 THEN NULL
            ELSE 150 + abs(hashint8extended(i, p.seed + 12)) % 1200
                 + CASE WHEN abs(hashint8extended(i, p.seed + 13)) % 100 = 0 THEN 3000 ELSE 0 END END,
       CASE WHEN p.messy AND i % 50 BETWEEN 8 AND 12
                 THEN (ARRAY['Cita Agendada', 'NO ANSWER', 'appointment-booked', '', NULL])[i % 50 - 7]
            WHEN abs(hashint8extended(i, p.seed + 14)) % 4 = 0
                 THEN (ARRAY['appointment_booked', 'order_placed', 'information_provided', 'not_interested'])
                      [1 + abs(hashint8extended(i, p.seed + 15)) % 4]
            ELSE NULL END,
       (ARRAY[
           'Cliente: quiero agendar una cita para el martes. Agente: listo, su cita quedó agendada.',
           'Caller: I would like to place an order for pickup. Agent: your order is confirmed.',
           'Caller: what are your opening hours? Agent: we open at nine.',
           'Cliente: no me interesa, gracias.',
           'Caller: can you call me back tomorrow?',
           'Agent: let me transfer you to a human.',
           '',
           NULL
       ])[1 + abs(hashint8extended(i, p.seed + 16)) % 8],
       'v1',
       p.epoch + make_interval(secs => abs(hashint8extended(i, p.seed + 17)) % (86400 * 330))
FROM seed_params p
CROSS JOIN generate_series(1, p.calls) AS i
CROSS JOIN LATERAL (
    SELECT j, abs(hashint8extended(j, p.seed + 9)) % 3 AS mode
    FROM (SELECT 1 + abs(hashint8extended(i, p.seed + 8)) % p.configs AS j) AS pick
) AS c
CROSS JOIN LATERAL (
    SELECT st.status,
           CASE st.status
               WHEN 'completed' THEN (ARRAY['customer-ended-call', 'assistant-ended-call', 'voicemail',
                                            'assistant-forwarded-call', 'silence-timed-out'])
                                     [1 + abs(hashint8extended(i, p.seed + 18)) % 5]
               WHEN 'failed' THEN 'pipeline-error'
               ELSE NULL END AS ended_reason,
           CASE WHEN st.status = 'completed'
                THEN round((abs(hashint8extended(i, p.seed + 19)) % 6000) / 10.0, 1)
                ELSE 0 END AS duration
    FROM (SELECT CASE WHEN r < 85 THEN 'completed' WHEN r < 90 THEN 'no-answer' WHEN r < 94 THEN 'busy'
                      WHEN r < 98 THEN 'failed' ELSE 'error' END AS status
          FROM (SELECT abs(hashint8extended(i, p.seed + 10)) % 100 AS r) AS roll) AS st
) AS s;
