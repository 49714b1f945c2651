-- catalog_keep_codes v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.catalog_keep_codes, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/90_triggers.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.catalog_keep_codes()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' OR TG_OP = 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code THEN
        RAISE EXCEPTION '%.% codes cannot be deleted or renamed: migrated rows refer to them',
            TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation',
                  HINT = 'add a new code instead; descriptions may be edited freely';
    END IF;
    RETURN NEW;
END
$$;
