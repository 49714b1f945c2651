-- rbr_agreement.sql — how many of the baseline's rows hold what the project's SQL transform computes.
-- What: counts the sampled calls whose (outcome_code, outcome_source) equal derive_call_outcomes' answer.
-- Inputs: ids (text[]).  Re-run: safe (read-only).
SELECT count(*)
FROM voice_migration.derive_call_outcomes(ARRAY(SELECT c FROM voice_agent_calls AS c WHERE c.id = ANY (%(ids)s))) AS d
JOIN voice_agent_calls AS c ON c.id = d.id
WHERE (c.outcome_code, c.outcome_source) = (d.outcome_code, d.outcome_source)
