-- 10_alembic_version_rls.sql — row-level security on Alembic's own table in public.
--
-- What: enables row-level security on public.alembic_version, the one table in public that Alembic
--       creates rather than a revision. Supabase gives `anon`/`authenticated` ALL on every new table
--       in public (default privileges) and serves public through its REST API: without this, anyone
--       with the anon key could read the schema revision, or delete the row and break every later
--       deploy. No policy: only the owner (the deploy pipeline) and roles given a policy on purpose
--       (sql/security/operator_role.sql) see the row. Keeps DESIGN.md's rule: every table created
--       in public has row-level security.
-- Inputs: public.alembic_version (exists: Alembic creates it before the first revision runs).
-- Re-run: safe (enabling row-level security twice is a no-op). Run by revision 0002_v2_flags, the
--         first revision an adopted v1 database (`alembic stamp 0001_v1_baseline`) runs; a downgrade
--         keeps it on (it hides nothing the owner needs).
-- Locks: ACCESS EXCLUSIVE on alembic_version for a catalog update (the revision holds it anyway).

ALTER TABLE public.alembic_version ENABLE ROW LEVEL SECURITY;
