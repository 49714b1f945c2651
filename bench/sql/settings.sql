-- settings.sql — the server settings recorded with every result (durability, memory, WAL).
-- Inputs: names (text[]).  Re-run: safe (read-only).
SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY (%(names)s) ORDER BY name
