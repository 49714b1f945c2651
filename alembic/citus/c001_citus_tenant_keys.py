"""Citus preparation (off by default): primary keys and unique keys that include tenant_id (issue #17).

Citus distributes a table by one column and requires every primary key and unique constraint of a
distributed table to include it. v1's primary keys are ``(id)``; this revision makes them
``(tenant_id, id)`` on ``voice_agent_configs`` and ``voice_agent_calls`` online, and adds
``UNIQUE (tenant_id, config_id)`` to ``voice_agent_metrics``. What else distribution would take:
``docs/scaling.md``.

It lives in its own version location with the branch label ``citus``, so a plain ``alembic upgrade
head`` never applies it; ``alembic -n citus upgrade citus@head`` does (alembic.ini section ``[citus]``).

Every step runs outside a transaction block, one statement per file in
``sql/revisions/c001_citus_tenant_keys/`` (file-name order), so no lock outlives its statement: a guard
(refuses when a config or call has no tenant_id), ``CHECK (tenant_id IS NOT NULL) NOT VALID``, its
``VALIDATE`` (writers keep writing), ``SET NOT NULL`` (no scan: the CHECK proves it), the new unique
indexes ``CONCURRENTLY``, a plain index on ``(id)`` for lookups and the backfill's keyset walk, and the
primary key swap ``USING INDEX`` under ``lock_timeout``. Each file is safe to re-run, so a revision
stopped by a lock timeout is simply run again.

Downgrade: refuses when two tenants now share an id; otherwise the same steps backwards, ending with
the schema of ``0012_one_home_per_concept`` (primary keys on ``(id)``, ``tenant_id`` nullable).

Revision ID: c001_citus_tenant_keys
Revises: 0012_one_home_per_concept
"""

from collections.abc import Sequence

from alembic import op
from voice_migration.migration.revision_ops import run_revision_sql, set_timeouts

revision: str = "c001_citus_tenant_keys"
down_revision: str | Sequence[str] | None = "0012_one_home_per_concept"
branch_labels: str | Sequence[str] | None = ("citus",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tenant-keyed primary keys on configs and calls, a tenant-keyed unique key on metrics, online."""
    set_timeouts()
    with op.get_context().autocommit_block():
        run_revision_sql(revision)


def downgrade() -> None:
    """Primary keys on (id) again, tenant_id nullable again; refused when ids are shared across tenants."""
    set_timeouts()
    with op.get_context().autocommit_block():
        run_revision_sql(revision, "downgrade")
