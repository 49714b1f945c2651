-- rules_checksum v1 — a fingerprint of the outcome rules as they are now (issue #16).
--
-- What: the function voice_migration.rules_checksum(): md5 over the order-free row checksums (the one
--       checksum form of sql/backup/checksum.sql: the sum of the first 64 bits of md5(ROW(...)::text))
--       of voice_migration.legacy_outcome_map and voice_migration.outcome_rules. compile_rules stamps the
--       generated functions with it; derive_call_outcomes refuses to run when the stamp differs.
-- Inputs: the two rule tables (revision 0003_v2_expand).
-- Re-run: safe (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION voice_migration.rules_checksum()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT md5(
        coalesce((SELECT sum(('x' || left(md5(ROW(m.spelling_key, m.outcome_code)::text), 16))::bit(64)::bigint)::text
                  FROM voice_migration.legacy_outcome_map AS m), 'empty')
        || '/' ||
        coalesce((SELECT sum(('x' || left(md5(ROW(r.priority, r.stage, r.match, r.outcome_code)::text), 16))::bit(64)::bigint)::text
                  FROM voice_migration.outcome_rules AS r), 'empty'))
$$;
