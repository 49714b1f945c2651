-- v1_app.sql — pgbench script: one transaction of the v1 voice application (issue #14, point 2's traffic).
--
-- What: per transaction, on v1 columns only (what a v1 application knows):
--         * a call is inserted (in progress) for a random existing config;
--         * an existing call is finished: status, outcome, duration, latency and transcript set;
--         * the config this client inserted in its previous transaction is deleted, a new one is
--           inserted under the same id, and an existing config is updated (name, updated_at).
-- Inputs: -D ncalls=N -D nconfigs=M (the seeded ids call_0000000001.., cfg_00000001..); :client_id.
-- Run by: python -m bench load (bench/pgbench_load.py), at a fixed rate (-R) with per-transaction logs.
\set c random(1, :nconfigs)
\set k random(1, :ncalls)
\set n random(1, 1000000000)
BEGIN;
INSERT INTO voice_agent_calls (id, tenant_id, config_id, direction, status, created_at)
    SELECT 'pgb_' || :client_id || '_' || :n || '_' || txid_current(), f.tenant_id, f.id, 'inbound', 'in-progress', now()
    FROM voice_agent_configs AS f WHERE f.id = 'cfg_' || lpad(:c::text, 8, '0');
UPDATE voice_agent_calls
    SET status = 'completed',
        outcome = CASE WHEN :n % 3 = 0 THEN 'Cita agendada' END,
        duration_seconds = 20 + :n % 300,
        latency_ms = 250 + :n % 500,
        transcript = 'Hola, gracias por llamar. Su cita queda agendada para el martes.'
    WHERE id = 'call_' || lpad(:k::text, 10, '0');
DELETE FROM voice_agent_configs WHERE id = 'pgb_cfg_' || :client_id;
INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled, created_at, updated_at)
    SELECT 'pgb_cfg_' || :client_id, f.tenant_id, 'pgbench ' || :n,
           'Eres un asistente de citas. Agenda citas y responde preguntas frecuentes.', 'voice_1', 'es',
           true, now(), now()
    FROM voice_agent_configs AS f WHERE f.id = 'cfg_' || lpad(:c::text, 8, '0');
UPDATE voice_agent_configs SET name = 'config ' || :n, updated_at = now()
    WHERE id = 'cfg_' || lpad(:c::text, 8, '0');
END;
