-- rbr_legacy_map.sql — the legacy outcome spellings, read once by the row-by-row baseline.
-- What: (spelling_key, outcome_code) of voice_migration.legacy_outcome_map.
-- Inputs: a database at Alembic head.  Re-run: safe (read-only).
SELECT spelling_key, outcome_code FROM voice_migration.legacy_outcome_map
