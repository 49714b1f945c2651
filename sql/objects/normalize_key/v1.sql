-- normalize_key v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.normalize_key, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/20_normalise.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.normalize_key(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT replace(voice_migration.fold_text(p_text), ' ', '') $$;
