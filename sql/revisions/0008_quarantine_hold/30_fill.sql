-- 30_fill.sql — fill the held set once, under the lock the triggers were created with.
--
-- What: locks voice_agent_configs against writers (SHARE ROW EXCLUSIVE, the lock CREATE TRIGGER takes
--   anyway; readers go on) for the rest of revision 0008's transaction, so no write falls between the
--   fill and the triggers, then recomputes the whole set in one GROUP BY
--   (voice_migration.refresh_held_tenants). On a database whose backfill has not run yet every tenant
--   with configs is held — correct: v2 cannot read them — and the backfill's batches release them.
-- Inputs: none. Run by revision 0008_quarantine_hold after the triggers.
-- Re-run: safe.

LOCK TABLE public.voice_agent_configs IN SHARE ROW EXCLUSIVE MODE;
SELECT voice_migration.refresh_held_tenants(NULL);
