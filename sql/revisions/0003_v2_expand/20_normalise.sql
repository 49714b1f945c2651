-- 10_normalise.sql — the normalisers every rule lookup goes through.
--
-- What: voice_migration.fold_text(text)    -> ' words ' : accents removed (NFD), lower case,
--                                             every run of other characters one space, padded
--                                             with a space on both sides (so ' ' || keyword finds
--                                             a keyword at the start of a word);
--       voice_migration.fold_keyword(text) -> the same without the padding: how keywords are stored;
--       voice_migration.normalize_key(text)-> letters and digits only: how spellings are compared
--                                             ('Cita Agendada', 'cita-agendada', 'CITA_AGENDADA'
--                                             all give 'citaagendada').
--       All are IMMUTABLE and STRICT (NULL in, NULL out). They assume a UTF8 database (normalize()).
-- Inputs: none.  Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.fold_text(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    -- NFD splits an accented letter into its base letter and combining marks (U+0300..U+036F),
    -- which are dropped; lower() then only meets ASCII letters with a meaning here, whatever the
    -- collation. Everything else (punctuation, emoji, other scripts) separates words.
    SELECT ' ' || btrim(regexp_replace(
               lower(regexp_replace(normalize(p_text, NFD), '[\u0300-\u036f]+', '', 'g')),
               '[^a-z0-9]+', ' ', 'g')) || ' '
$$;

CREATE OR REPLACE FUNCTION voice_migration.fold_keyword(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT btrim(voice_migration.fold_text(p_text)) $$;

CREATE OR REPLACE FUNCTION voice_migration.normalize_key(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT replace(voice_migration.fold_text(p_text), ' ', '') $$;

-- The canonical form of a capabilities array: distinct members, sorted (NULL stays NULL).
CREATE OR REPLACE FUNCTION voice_migration.sorted_distinct(p_items text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(array_agg(DISTINCT item ORDER BY item), '{}') FROM unnest(p_items) AS item $$;
