-- rbr_update_call.sql — one call's outcome, written by the row-by-row baseline (one round trip, own commit).
-- Inputs: id, code, source.  Re-run: safe (same values).
UPDATE voice_agent_calls SET outcome_code = %(code)s, outcome_source = %(source)s WHERE id = %(id)s
