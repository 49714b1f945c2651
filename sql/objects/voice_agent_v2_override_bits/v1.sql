-- voice_agent_v2_override_bits v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the function voice_agent_v2_override_bits, exactly as
--       revision 0002_v2_flags installs it (manifest sql/revisions/0002_v2_flags/30_functions.objects, whose comments explain the design).
--       Its COMMENT and REVOKE are 0002's own SQL (35_function_comments_and_grants.sql); CREATE OR REPLACE
--       keeps them. A version that drops and re-creates the function must set them again.
-- Inputs: the tables, types and functions it names (release 0.1 schema).
-- Re-run: safe (CREATE OR REPLACE). The same text again changes nothing.

CREATE OR REPLACE FUNCTION voice_agent_v2_override_bits(tenant_id text) RETURNS bit(8192)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (B'1'::bit(8192) >> ((p >> 26) & 8191)::integer)
         | (B'1'::bit(8192) >> ((p >> 13) & 8191)::integer)
         | (B'1'::bit(8192) >> (p & 8191)::integer)
      FROM (SELECT ('x' || substr(md5(tenant_id), 9, 12))::bit(48)::bigint AS p) AS probe
$$;
