-- rbr_sample_ids.sql — the calls the row-by-row baseline works on: the first n by id.
-- What: ids only, as the old script listed a page of rows before working through it.
-- Inputs: n.  Re-run: safe (read-only).
SELECT id FROM voice_agent_calls ORDER BY id LIMIT %(n)s
