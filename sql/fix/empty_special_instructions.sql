-- fix: empty_special_instructions
-- summary: configs whose empty special_instructions became []
-- what: sets personality.special_instructions to [] on migrated configs where it is missing, JSON null
--       or a blank string (what the check sql/validation/empty_special_instructions.sql reports).
-- why safe: "no instructions" becomes the empty list that means the same; nothing else in the row
--       changes, and personality.base_prompt (the only key synced back to v1) is untouched.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: the database at Alembic head.
-- re-run: safe and idempotent: a second run changes 0 rows. Never deletes.
-- returns: one row, fixed = the number of configs changed.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
),
changed AS (
    UPDATE voice_agent_configs AS c
    SET personality = jsonb_set(c.personality, '{special_instructions}', '[]'::jsonb, true)
    FROM scope AS s
    WHERE c.schema_version = 'v2'
      AND jsonb_typeof(c.personality) = 'object'
      -- ->> gives NULL for a missing key or JSON null, the bare text of a string, and '[]' for []
      AND nullif(btrim(c.personality ->> 'special_instructions'), '') IS NULL
      AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
    RETURNING 1
)
SELECT count(*) AS fixed FROM changed;
