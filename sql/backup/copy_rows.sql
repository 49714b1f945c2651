-- copy_rows.sql — the rows in scope of {source}, inserted into {backup} and returned (set-based).
--
-- What: the WITH clause that checksum.sql runs its count and checksum over (its rows placeholder, table "copied"):
--       one pass writes the copy and checksums what it wrote. The rows are those whose {scope_column}
--       is in the tenant scope.
-- Inputs: template placeholders filled with quoted identifiers by voice_migration/migration/backup.py:
--         {backup}, {source}, {scope_column}; the tenant scope comes from the transaction setting
--         voice_migration.tenant_ids = 'a,b' (empty or unset = every tenant).
-- Re-run: no — it inserts (a backup table is filled once).

WITH copied AS (
    INSERT INTO {backup}
    SELECT *
    FROM {source} AS s
    WHERE nullif(btrim(current_setting('voice_migration.tenant_ids', true)), '') IS NULL
       OR s.{scope_column} = ANY (regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''), '\s*,\s*'))
    RETURNING *
)
