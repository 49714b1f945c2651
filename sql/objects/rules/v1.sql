-- rules v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the rows of the rule tables (language_map, direction_map, legacy_outcome_map, outcome_rules,
--       capability_keywords, assistant_type_keywords, prompt_line_markers), exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/40_rules.objects, whose comments explain the design).
-- Inputs: the rule tables and both catalogs (revision 0003_v2_expand), the normalisers fold_keyword and
--         normalize_key.
-- Re-run: safe (ON CONFLICT DO NOTHING): adds missing rows, keeps rows a DBA added or changed,
--         deletes nothing.

INSERT INTO voice_migration.language_map (spelling_key, language)
SELECT voice_migration.normalize_key(spelling), language
FROM (VALUES
    ('es', 'es'), ('spa', 'es'), ('Spanish', 'es'), ('español', 'es'), ('castellano', 'es'),
    ('en', 'en'), ('eng', 'en'), ('English', 'en'), ('inglés', 'en'),
    ('pt', 'pt'), ('por', 'pt'), ('Portuguese', 'pt'), ('portugués', 'pt'), ('português', 'pt'),
    ('fr', 'fr'), ('fra', 'fr'), ('fre', 'fr'), ('French', 'fr'), ('francés', 'fr'), ('français', 'fr'),
    ('de', 'de'), ('deu', 'de'), ('ger', 'de'), ('German', 'de'), ('alemán', 'de'), ('Deutsch', 'de'),
    ('it', 'it'), ('ita', 'it'), ('Italian', 'it'), ('italiano', 'it'),
    ('ca', 'ca'), ('cat', 'ca'), ('Catalan', 'ca'), ('catalán', 'ca'), ('català', 'ca'),
    ('nl', 'nl'), ('nld', 'nl'), ('Dutch', 'nl'), ('neerlandés', 'nl')
) AS v (spelling, language)
ON CONFLICT (spelling_key) DO NOTHING;

INSERT INTO voice_migration.direction_map (spelling_key, direction)
SELECT voice_migration.normalize_key(spelling), direction
FROM (VALUES
    ('inbound', 'inbound'), ('in', 'inbound'), ('incoming', 'inbound'), ('inb', 'inbound'),
    ('entrante', 'inbound'), ('entrada', 'inbound'), ('recibida', 'inbound'),
    ('outbound', 'outbound'), ('out', 'outbound'), ('outgoing', 'outbound'), ('outb', 'outbound'),
    ('saliente', 'outbound'), ('salida', 'outbound'), ('realizada', 'outbound')
) AS v (spelling, direction)
ON CONFLICT (spelling_key) DO NOTHING;

-- Every catalog code is its own legacy spelling ('appointment_booked', 'Appointment Booked', ...).
INSERT INTO voice_migration.legacy_outcome_map (spelling_key, outcome_code)
SELECT voice_migration.normalize_key(code), code FROM voice_migration.outcome_catalog
ON CONFLICT (spelling_key) DO NOTHING;

INSERT INTO voice_migration.legacy_outcome_map (spelling_key, outcome_code)
SELECT voice_migration.normalize_key(spelling), outcome_code
FROM (VALUES
    ('Cita Agendada', 'appointment_booked'), ('cita programada', 'appointment_booked'),
    ('cita reservada', 'appointment_booked'), ('agendada', 'appointment_booked'),
    ('appointment scheduled', 'appointment_booked'), ('booked', 'appointment_booked'),
    ('pedido realizado', 'order_placed'), ('orden realizada', 'order_placed'), ('pedido', 'order_placed'),
    ('order', 'order_placed'), ('ordered', 'order_placed'),
    ('información proporcionada', 'information_provided'), ('información', 'information_provided'),
    ('info', 'information_provided'), ('information', 'information_provided'),
    ('transferido', 'transferred_to_human'), ('transferida', 'transferred_to_human'),
    ('transferred', 'transferred_to_human'), ('transfer', 'transferred_to_human'),
    ('devolver llamada', 'callback_requested'), ('llamar de nuevo', 'callback_requested'),
    ('callback', 'callback_requested'), ('call back', 'callback_requested'),
    ('no interesado', 'not_interested'), ('no interesada', 'not_interested'),
    ('no le interesa', 'not_interested'),
    ('buzón de voz', 'voicemail'), ('buzón', 'voicemail'), ('mensaje de voz', 'voicemail'),
    ('voice mail', 'voicemail'),
    ('sin respuesta', 'no_answer'), ('no contesta', 'no_answer'), ('no contestó', 'no_answer'),
    ('ocupado', 'busy'), ('línea ocupada', 'busy'),
    ('abandonada', 'abandoned'), ('abandonado', 'abandoned'), ('colgó', 'abandoned'),
    ('hung up', 'abandoned'),
    ('fallida', 'failed'), ('fallido', 'failed'), ('error', 'failed'), ('fallo', 'failed'),
    ('otro', 'other'), ('otra', 'other')
) AS v (spelling, outcome_code)
ON CONFLICT (spelling_key) DO NOTHING;

-- Inference order (DESIGN.md section 4): status, then ended_reason, then transcript, then short call.
-- Gaps between priorities leave room for a DBA's own rules.
INSERT INTO voice_migration.outcome_rules (priority, stage, match, outcome_code)
SELECT priority, stage,
       CASE stage WHEN 'transcript' THEN voice_migration.fold_keyword(match)
                  WHEN 'short_call' THEN match
                  ELSE voice_migration.normalize_key(match) END,
       outcome_code
FROM (VALUES
    (100, 'status', 'no-answer', 'no_answer'),
    (110, 'status', 'busy', 'busy'),
    (120, 'status', 'failed', 'failed'),
    (130, 'status', 'error', 'failed'),
    (200, 'ended_reason', 'voicemail', 'voicemail'),
    (210, 'ended_reason', 'transfer', 'transferred_to_human'),
    (220, 'ended_reason', 'forward', 'transferred_to_human'),
    (230, 'ended_reason', 'did-not-answer', 'no_answer'),
    (240, 'ended_reason', 'busy', 'busy'),
    -- transcripts: refusals first, so "no me interesa agendar" is not read as a booking
    (300, 'transcript', 'no me interesa', 'not_interested'),
    (301, 'transcript', 'no estoy interesado', 'not_interested'),
    (302, 'transcript', 'no estoy interesada', 'not_interested'),
    (303, 'transcript', 'not interested', 'not_interested'),
    (310, 'transcript', 'transfer you', 'transferred_to_human'),
    (311, 'transcript', 'transferirle', 'transferred_to_human'),
    (312, 'transcript', 'le transfiero', 'transferred_to_human'),
    (313, 'transcript', 'te transfiero', 'transferred_to_human'),
    (320, 'transcript', 'call me back', 'callback_requested'),
    (321, 'transcript', 'call you back', 'callback_requested'),
    (322, 'transcript', 'llámame', 'callback_requested'),
    (323, 'transcript', 'devolver la llamada', 'callback_requested'),
    (324, 'transcript', 'llamar más tarde', 'callback_requested'),
    (330, 'transcript', 'buzón de voz', 'voicemail'),
    (331, 'transcript', 'leave a message', 'voicemail'),
    (332, 'transcript', 'deje su mensaje', 'voicemail'),
    (340, 'transcript', 'cita quedó agendada', 'appointment_booked'),
    (341, 'transcript', 'cita agendada', 'appointment_booked'),
    (342, 'transcript', 'appointment is booked', 'appointment_booked'),
    (343, 'transcript', 'appointment booked', 'appointment_booked'),
    (344, 'transcript', 'booked your appointment', 'appointment_booked'),
    (350, 'transcript', 'order is confirmed', 'order_placed'),
    (351, 'transcript', 'place an order', 'order_placed'),
    (352, 'transcript', 'pedido confirmado', 'order_placed'),
    (353, 'transcript', 'su pedido', 'order_placed'),
    (360, 'transcript', 'opening hours', 'information_provided'),
    (361, 'transcript', 'we open', 'information_provided'),
    (362, 'transcript', 'horario', 'information_provided'),
    (363, 'transcript', 'abrimos', 'information_provided'),
    (900, 'short_call', '10', 'abandoned')
) AS v (priority, stage, match, outcome_code)
ON CONFLICT DO NOTHING;

INSERT INTO voice_migration.capability_keywords (keyword, capability)
SELECT voice_migration.fold_keyword(keyword), capability
FROM (VALUES
    ('agendar', 'appointment_booking'), ('agenda citas', 'appointment_booking'),
    ('reservar cita', 'appointment_booking'), ('programar cita', 'appointment_booking'),
    ('sacar cita', 'appointment_booking'), ('book appointment', 'appointment_booking'),
    ('book an appointment', 'appointment_booking'), ('schedule appointment', 'appointment_booking'),
    ('schedule an appointment', 'appointment_booking'), ('make an appointment', 'appointment_booking'),
    ('appointment booking', 'appointment_booking'),
    ('reprogramar', 'appointment_rescheduling'), ('reagendar', 'appointment_rescheduling'),
    ('cambiar la cita', 'appointment_rescheduling'), ('reschedule', 'appointment_rescheduling'),
    ('rescheduling', 'appointment_rescheduling'),
    ('reservation', 'reservations'), ('reservación', 'reservations'), ('reservar mesa', 'reservations'),
    ('reservar una mesa', 'reservations'), ('reserve a table', 'reservations'), ('book a table', 'reservations'),
    ('faq', 'faq'), ('preguntas frecuentes', 'faq'), ('frequently asked', 'faq'),
    ('opening hours', 'faq'), ('business hours', 'faq'), ('horario', 'faq'),
    ('transfiere a un humano', 'human_transfer'), ('transferir a un humano', 'human_transfer'),
    ('agente humano', 'human_transfer'), ('transfer to a human', 'human_transfer'),
    ('transfer to a person', 'human_transfer'), ('human agent', 'human_transfer'),
    ('take orders', 'order_taking'), ('take an order', 'order_taking'), ('taking orders', 'order_taking'),
    ('tomar pedidos', 'order_taking'), ('toma pedidos', 'order_taking'), ('tomar el pedido', 'order_taking'),
    ('califica leads', 'lead_qualification'), ('calificar leads', 'lead_qualification'),
    ('califica prospectos', 'lead_qualification'), ('calificar prospectos', 'lead_qualification'),
    ('qualify leads', 'lead_qualification'), ('lead qualification', 'lead_qualification'),
    ('remind', 'reminders'), ('recordatorio', 'reminders'),
    ('payment', 'payments'), ('pago', 'payments'), ('cobrar', 'payments'), ('cobro', 'payments'),
    ('llamada de regreso', 'callback_scheduling'), ('devolver la llamada', 'callback_scheduling'),
    ('call back', 'callback_scheduling'), ('callback', 'callback_scheduling'),
    ('mensaje de voz', 'voicemail_handling'), ('buzón de voz', 'voicemail_handling'),
    ('voicemail', 'voicemail_handling'), ('voice mail', 'voicemail_handling'),
    ('encuesta', 'surveys'), ('survey', 'surveys')
) AS v (keyword, capability)
ON CONFLICT (keyword) DO NOTHING;

INSERT INTO voice_migration.assistant_type_keywords (keyword, assistant_type)
SELECT voice_migration.fold_keyword(keyword), assistant_type
FROM (VALUES
    ('recepcionista', 'inbound'), ('receptionist', 'inbound'), ('gracias por llamar', 'inbound'),
    ('thanks for calling', 'inbound'), ('support line', 'inbound'), ('atiende llamadas', 'inbound'),
    ('answer calls', 'inbound'), ('phone host', 'inbound'), ('llamadas entrantes', 'inbound'),
    ('inbound', 'inbound'),
    ('llamas a', 'outbound'), ('que llama a', 'outbound'), ('you call', 'outbound'),
    ('call customers', 'outbound'), ('call prospects', 'outbound'), ('llamadas salientes', 'outbound'),
    ('outbound', 'outbound')
) AS v (keyword, assistant_type)
ON CONFLICT (keyword) DO NOTHING;

INSERT INTO voice_migration.prompt_line_markers (marker, marker_type, kind)
SELECT CASE marker_type WHEN 'label' THEN voice_migration.fold_keyword(marker) ELSE marker END,
       marker_type, kind
FROM (VALUES
    ('Saludo', 'label', 'greeting'), ('Saludo inicial', 'label', 'greeting'),
    ('Bienvenida', 'label', 'greeting'), ('Mensaje de bienvenida', 'label', 'greeting'),
    ('Greeting', 'label', 'greeting'), ('Welcome message', 'label', 'greeting'),
    ('Opening line', 'label', 'greeting'),
    ('Despedida', 'label', 'farewell'), ('Mensaje de despedida', 'label', 'farewell'),
    ('Farewell', 'label', 'farewell'), ('Goodbye', 'label', 'farewell'), ('Closing line', 'label', 'farewell'),
    ('Instrucción', 'label', 'instruction'), ('Instrucciones', 'label', 'instruction'),
    ('Instrucción especial', 'label', 'instruction'), ('Instrucciones especiales', 'label', 'instruction'),
    ('Nota', 'label', 'instruction'), ('Importante', 'label', 'instruction'), ('Regla', 'label', 'instruction'),
    ('Instruction', 'label', 'instruction'), ('Instructions', 'label', 'instruction'),
    ('Special instruction', 'label', 'instruction'), ('Special instructions', 'label', 'instruction'),
    ('Note', 'label', 'instruction'), ('Important', 'label', 'instruction'), ('Rule', 'label', 'instruction'),
    ('-', 'bullet', 'instruction'), ('*', 'bullet', 'instruction'), ('•', 'bullet', 'instruction'),
    ('–', 'bullet', 'instruction'), ('·', 'bullet', 'instruction')
) AS v (marker, marker_type, kind)
ON CONFLICT DO NOTHING;
