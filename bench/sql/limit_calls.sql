-- limit_calls.sql — the honest limit's outcome inference: one UPDATE over every call, hand-written.
--
-- What: outcome_code / outcome_source of every call with today's rules hard-coded as one CASE
--       (sql/catalogs/30_rules.sql): the legacy outcome map first ('manual', keys compared letters and
--       digits only, accents dropped), then, in priority order, status, ended_reason and transcript
--       keywords (regex, at the start of a word) and the short-call rule ('inferred'), else 'other'.
--       No project function is called; the dual-write trigger is skipped the way the backfill skips it.
-- Inputs: a database at Alembic head whose backfill has not run.
-- Re-run: safe (only calls without an outcome are written).

SELECT set_config('voice_migration.backfill', 'on', true);

UPDATE voice_agent_calls AS c
SET outcome_code = coalesce(
        CASE regexp_replace(lower(translate(c.outcome, 'ÁÉÍÓÚÜÑáéíóúüñ', 'AEIOUUNaeiouun')), '[^a-z0-9]+', '', 'g')
            WHEN 'appointmentbooked' THEN 'appointment_booked' WHEN 'citaagendada' THEN 'appointment_booked'
            WHEN 'citaprogramada' THEN 'appointment_booked' WHEN 'citareservada' THEN 'appointment_booked'
            WHEN 'agendada' THEN 'appointment_booked' WHEN 'appointmentscheduled' THEN 'appointment_booked'
            WHEN 'booked' THEN 'appointment_booked'
            WHEN 'orderplaced' THEN 'order_placed' WHEN 'pedidorealizado' THEN 'order_placed'
            WHEN 'ordenrealizada' THEN 'order_placed' WHEN 'pedido' THEN 'order_placed'
            WHEN 'order' THEN 'order_placed' WHEN 'ordered' THEN 'order_placed'
            WHEN 'informationprovided' THEN 'information_provided'
            WHEN 'informacionproporcionada' THEN 'information_provided'
            WHEN 'informacion' THEN 'information_provided' WHEN 'info' THEN 'information_provided'
            WHEN 'information' THEN 'information_provided'
            WHEN 'transferredtohuman' THEN 'transferred_to_human' WHEN 'transferido' THEN 'transferred_to_human'
            WHEN 'transferida' THEN 'transferred_to_human' WHEN 'transferred' THEN 'transferred_to_human'
            WHEN 'transfer' THEN 'transferred_to_human'
            WHEN 'callbackrequested' THEN 'callback_requested' WHEN 'devolverllamada' THEN 'callback_requested'
            WHEN 'llamardenuevo' THEN 'callback_requested' WHEN 'callback' THEN 'callback_requested'
            WHEN 'notinterested' THEN 'not_interested' WHEN 'nointeresado' THEN 'not_interested'
            WHEN 'nointeresada' THEN 'not_interested' WHEN 'noleinteresa' THEN 'not_interested'
            WHEN 'voicemail' THEN 'voicemail' WHEN 'buzondevoz' THEN 'voicemail' WHEN 'buzon' THEN 'voicemail'
            WHEN 'mensajedevoz' THEN 'voicemail'
            WHEN 'noanswer' THEN 'no_answer' WHEN 'sinrespuesta' THEN 'no_answer' WHEN 'nocontesta' THEN 'no_answer'
            WHEN 'nocontesto' THEN 'no_answer'
            WHEN 'busy' THEN 'busy' WHEN 'ocupado' THEN 'busy' WHEN 'lineaocupada' THEN 'busy'
            WHEN 'abandoned' THEN 'abandoned' WHEN 'abandonada' THEN 'abandoned' WHEN 'abandonado' THEN 'abandoned'
            WHEN 'colgo' THEN 'abandoned' WHEN 'hungup' THEN 'abandoned'
            WHEN 'failed' THEN 'failed' WHEN 'fallida' THEN 'failed' WHEN 'fallido' THEN 'failed'
            WHEN 'error' THEN 'failed' WHEN 'fallo' THEN 'failed'
            WHEN 'other' THEN 'other' WHEN 'otro' THEN 'other' WHEN 'otra' THEN 'other' END,
        CASE
            WHEN c.status ~* '^\W*no\W*answer\W*$' THEN 'no_answer'
            WHEN c.status ~* '^\W*busy\W*$' THEN 'busy'
            WHEN c.status ~* '^\W*(failed|error)\W*$' THEN 'failed'
            WHEN c.ended_reason ~* 'voice\W*mail' THEN 'voicemail'
            WHEN c.ended_reason ~* 'transfer|forward' THEN 'transferred_to_human'
            WHEN c.ended_reason ~* 'did\W*not\W*answer' THEN 'no_answer'
            WHEN c.ended_reason ~* 'busy' THEN 'busy'
            WHEN c.transcript ~* '\m(no\W+me\W+interesa|no\W+estoy\W+interesad[oa]|not\W+interested)' THEN 'not_interested'
            WHEN c.transcript ~* '\m(transfer\W+you|transferirle|le\W+transfiero|te\W+transfiero)' THEN 'transferred_to_human'
            WHEN c.transcript ~* '\m(call\W+me\W+back|call\W+you\W+back|ll[aá]mame|devolver\W+la\W+llamada|llamar\W+m[aá]s\W+tarde)'
                THEN 'callback_requested'
            WHEN c.transcript ~* '\m(buz[oó]n\W+de\W+voz|leave\W+a\W+message|deje\W+su\W+mensaje)' THEN 'voicemail'
            WHEN c.transcript ~* '\m(cita\W+qued[oó]\W+agendada|cita\W+agendada|appointment\W+is\W+booked|appointment\W+booked|booked\W+your\W+appointment)'
                THEN 'appointment_booked'
            WHEN c.transcript ~* '\m(order\W+is\W+confirmed|place\W+an\W+order|pedido\W+confirmado|su\W+pedido)' THEN 'order_placed'
            WHEN c.transcript ~* '\m(opening\W+hours|we\W+open|horario|abrimos)' THEN 'information_provided'
            WHEN c.status ~* '^\W*completed\W*$' AND c.duration_seconds < 10 THEN 'abandoned'
            ELSE 'other' END),
    outcome_source = CASE WHEN regexp_replace(lower(translate(c.outcome, 'ÁÉÍÓÚÜÑáéíóúüñ', 'AEIOUUNaeiouun')),
                                              '[^a-z0-9]+', '', 'g')
                               IN ('appointmentbooked', 'citaagendada', 'citaprogramada', 'citareservada', 'agendada',
                                   'appointmentscheduled', 'booked', 'orderplaced', 'pedidorealizado',
                                   'ordenrealizada', 'pedido', 'order', 'ordered', 'informationprovided',
                                   'informacionproporcionada', 'informacion', 'info', 'information',
                                   'transferredtohuman', 'transferido', 'transferida', 'transferred', 'transfer',
                                   'callbackrequested', 'devolverllamada', 'llamardenuevo', 'callback',
                                   'notinterested', 'nointeresado', 'nointeresada', 'noleinteresa', 'voicemail',
                                   'buzondevoz', 'buzon', 'mensajedevoz', 'noanswer', 'sinrespuesta', 'nocontesta',
                                   'nocontesto', 'busy', 'ocupado', 'lineaocupada', 'abandoned', 'abandonada',
                                   'abandonado', 'colgo', 'hungup', 'failed', 'fallida', 'fallido', 'error', 'fallo',
                                   'other', 'otro', 'otra')
                          THEN 'manual' ELSE 'inferred' END
WHERE c.outcome_code IS NULL;
