-- load_insert_call.sql — the v1 application records a call (v1 columns only; the v2 ones are the triggers' job).
-- Inputs: id, tenant_id, config_id, k (a counter that varies the values).  Re-run: no (the id is new each time).
INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, ended_reason, duration_seconds,
                               latency_ms, outcome, transcript, created_at)
VALUES (%(id)s, %(tenant_id)s, %(config_id)s,
        CASE WHEN %(k)s::int %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
        CASE WHEN %(k)s::int %% 10 = 0 THEN 'no-answer' ELSE 'completed' END,
        'customer-ended-call', (%(k)s::int %% 600)::numeric, 150 + %(k)s::int %% 900, NULL,
        'Cliente: quiero agendar una cita. Agente: su cita quedó agendada.', now())
