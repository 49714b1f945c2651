-- rbr_fetch_call.sql — one call, fetched by the row-by-row baseline (one round trip).
-- Inputs: id.  Re-run: safe (read-only).
SELECT id, outcome, status, ended_reason, transcript, duration_seconds FROM voice_agent_calls WHERE id = %(id)s
