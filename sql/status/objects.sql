-- objects.sql — which parts of the schema exist, so `voice-migration status` asks only what can be answered.
--
-- What: one row of booleans: the v2 bookkeeping (voice_migration.backfill_progress,
--   from revision 0003_v2_expand), the v2 metrics table, the quarantine, the feature-flag tables (revision
--   0002_v2_flags), and the held-tenant set (revision 0008_quarantine_hold). Works on any database,
--   empty or v1-only.
-- Inputs: none.
-- Re-run: safe (read-only).

SELECT to_regclass('voice_migration.backfill_progress') IS NOT NULL
         AND to_regclass('public.voice_agent_metrics') IS NOT NULL AS backfill,
       to_regclass('voice_migration.quarantine') IS NOT NULL AS quarantine,
       to_regclass('public.voice_agent_v2_flags') IS NOT NULL AS flags,
       to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL AS held_tenants
