-- check: unknown_spellings
-- severity: low
-- what: v1 values that are not in their canonical form: a config language that is not a BCP 47 tag
--       (es, es-MX, en-US; so 'ES', 'es_MX', 'Spanish', 'klingon' are reported), a call direction other
--       than inbound/outbound, a call outcome that is not a snake_case code ('Cita Agendada', 'NO ANSWER',
--       'appointment-booked', blank).
-- failure means: the transform has to map these spellings. Known ones are normalised through the
--       transform's language, direction and legacy outcome maps; an unknown language quarantines its config
--       (unknown_language), an unknown outcome is inferred from status/ended_reason/transcript instead.
--       This file only looks at the shape of the value, so it runs on a v1-only database where the maps do
--       not exist yet; `voice-migration migrate --dry-run` shows exactly which rows the maps resolve.
-- inputs: optional tenant scope, SET voice_migration.tenant_ids = 'a,b' (empty or unset = all tenants).
-- needs: only the v1 tables (revision 0001_v1_baseline); works on a v1-only database.
-- re-run: safe, a read-only SELECT.
-- returns: check_name, severity, entity, id, tenant_id, detail; one row per violation, 0 rows = pass.
WITH scope AS (
    SELECT regexp_split_to_array(nullif(btrim(current_setting('voice_migration.tenant_ids', true)), ''),
                                 '\s*,\s*') AS ids
)
SELECT 'unknown_spellings' AS check_name, 'low' AS severity, 'config' AS entity, c.id, c.tenant_id,
       format('language %L is not a BCP 47 tag: normalised by the language map, or quarantined '
              '(unknown_language) if the map does not know it', c.language) AS detail
FROM voice_agent_configs AS c, scope AS s
WHERE nullif(btrim(c.language), '') IS NOT NULL
  AND c.language !~ '^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}))?$'
  AND (s.ids IS NULL OR c.tenant_id = ANY (s.ids))
UNION ALL
SELECT 'unknown_spellings', 'low', 'call', k.id, k.tenant_id,
       format('direction %L is neither inbound nor outbound: normalised by the direction map', k.direction)
FROM voice_agent_calls AS k, scope AS s
WHERE nullif(btrim(k.direction), '') IS NOT NULL
  AND k.direction NOT IN ('inbound', 'outbound')
  AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids))
UNION ALL
SELECT 'unknown_spellings', 'low', 'call', k.id, k.tenant_id,
       format('outcome %L is a legacy free-text outcome: mapped by the legacy outcome map, or the outcome '
              'is inferred', k.outcome)
FROM voice_agent_calls AS k, scope AS s
WHERE k.outcome IS NOT NULL
  AND k.outcome !~ '^[a-z]+(_[a-z]+)*$'
  AND (s.ids IS NULL OR k.tenant_id = ANY (s.ids));
