-- outcome_catalog_keep_codes v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the trigger outcome_catalog_keep_codes on voice_migration.outcome_catalog, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/90_triggers.objects, whose comments explain the design).
-- Inputs: its table and its trigger function.
-- Locks: DROP TRIGGER takes ACCESS EXCLUSIVE on the table until the revision commits (under lock_timeout);
--        install triggers last in a revision.
-- Re-run: safe (DROP TRIGGER IF EXISTS + CREATE TRIGGER, in the revision's transaction).

DROP TRIGGER IF EXISTS outcome_catalog_keep_codes ON voice_migration.outcome_catalog;

CREATE TRIGGER outcome_catalog_keep_codes
    BEFORE UPDATE OR DELETE ON voice_migration.outcome_catalog
    FOR EACH ROW EXECUTE FUNCTION voice_migration.catalog_keep_codes();
