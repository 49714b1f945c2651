-- normalize_language v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.normalize_language, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/45_transform_configs.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.normalize_language(p_language text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    -- 'es', 'ES', 'es_MX', 'en-us', 'es 419': a known language code or name, then an optional
    -- region (2 letters or 3 digits). Anything else must be a known name as a whole ('español').
    SELECT CASE WHEN parts IS NOT NULL
                THEN (SELECT m.language FROM voice_migration.language_map AS m
                      WHERE m.spelling_key = voice_migration.normalize_key(parts[1]))
                     || coalesce('-' || upper(parts[2]), '')
                ELSE (SELECT m.language FROM voice_migration.language_map AS m
                      WHERE m.spelling_key = voice_migration.normalize_key(p_language)) END
    FROM (SELECT regexp_match(btrim(p_language), '^([A-Za-z]+)(?:[-_ ]([A-Za-z]{2}|[0-9]{3}))?$')
          AS parts) AS p
$$;
