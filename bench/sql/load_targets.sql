-- load_targets.sql — the configs the load generator writes to: up to 1,000 with a known tenant.
-- What: (id, tenant_id), spread over the key range so the writes touch many backfill batches.
-- Inputs: none.  Re-run: safe (read-only).
SELECT id, tenant_id
FROM (SELECT c.id, c.tenant_id, row_number() OVER (ORDER BY c.id) AS n, count(*) OVER () AS total
      FROM voice_agent_configs AS c JOIN tenants AS t ON t.id = c.tenant_id) AS s
WHERE s.n % greatest(1, s.total / 1000) = 0
ORDER BY md5(s.id)
