-- tenant_override.sql — does the tenant exist, and what is its override now?
--
-- What: one row: whether `tenants` has the id, and the tenant's current override (NULL = none).
--   Read after lock_flags.sql, which serialises every flag change, so the value stays current until commit.
-- Inputs: %(tenant_id)s (text).
-- Re-run: safe (read-only).

SELECT EXISTS (SELECT FROM tenants WHERE id = %(tenant_id)s) AS tenant_exists,
       (SELECT enabled FROM voice_agent_v2_tenant_overrides WHERE tenant_id = %(tenant_id)s) AS override
