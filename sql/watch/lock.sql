-- lock.sql — become the one acting rollout watcher: take (or confirm) its session advisory lock.
--
-- What: true when this session holds the watcher lock afterwards. The lock is session-level
--   (pg_try_advisory_lock(30317, 19): 30317 = 0x766D, the tool's namespace in voice_migration.infra.locks;
--   19 = the watcher), so it survives the watcher's transactions and is freed when its connection ends
--   (a killed or disconnected watcher loses it at once). A session that already holds it does not take
--   it again (the lock would stack).
-- Inputs: none.
-- Re-run: safe.

SELECT EXISTS (SELECT FROM pg_locks
                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                  AND classid = 30317 AND objid = 19 AND objsubid = 2)
       OR pg_try_advisory_lock(30317, 19) AS held
