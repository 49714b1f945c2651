-- fold_text v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.fold_text, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/20_normalise.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

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
