-- configs_catalog_guard v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_migration.configs_catalog_guard, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/90_triggers.objects, whose comments explain the design).
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_migration.configs_catalog_guard()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, x.code INTO bad
    FROM new_rows AS n CROSS JOIN LATERAL unnest(n.capabilities) AS x (code)
    WHERE NOT EXISTS (SELECT FROM voice_migration.capability_catalog AS k WHERE k.code = x.code)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'config %: capability % is not in voice_migration.capability_catalog',
            quote_literal(bad.id), quote_nullable(bad.code)
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'use a catalog capability, or add the code to voice_migration.capability_catalog first';
    END IF;
    RETURN NULL;
END
$$;
