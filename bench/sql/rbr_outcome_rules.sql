-- rbr_outcome_rules.sql — the outcome inference rules in priority order, read once by the row-by-row baseline.
-- What: (stage, match, outcome_code) of voice_migration.outcome_rules, lowest priority first.
-- Inputs: a database at Alembic head.  Re-run: safe (read-only).
SELECT stage, match, outcome_code FROM voice_migration.outcome_rules ORDER BY priority
