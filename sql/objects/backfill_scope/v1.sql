-- backfill_scope v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.backfill_scope, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/60_backfill_step.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.backfill_scope(p_tenant_ids text[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(array_to_string(voice_migration.sorted_distinct(p_tenant_ids), ','), '*') $$;
