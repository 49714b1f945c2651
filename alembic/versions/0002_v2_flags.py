"""v2 flags: feature-flag tables and functions for the tenant-by-tenant rollout (DESIGN.md sections 3, 5).

Creates ``voice_agent_v2_flags`` (one row, disabled at 0 %), ``voice_agent_v2_tenant_overrides`` and the
append-only ``voice_agent_v2_flag_audit`` (row-level security on all three), the functions
``voice_agent_v2_bucket`` and ``voice_agent_v2_enabled``, and the triggers that stamp, audit and NOTIFY
every change (``sql/revisions/0002_v2_flags/``). It reads nothing of the v2 expand, which runs after it.

It also enables row-level security on ``alembic_version``
(``sql/revisions/0002_v2_flags/10_alembic_version_rls.sql``), the table Alembic itself makes in ``public``.

The downgrade keeps a copy of the flags, overrides and audit in ``voice_migration.downgrade_archive_v2_*``.

Revision ID: 0002_v2_flags
Revises: 0001_v1_baseline
"""

from collections.abc import Sequence

from alembic import context
from voice_migration.migration.revision_ops import run_revision_sql, set_timeouts

revision: str = "0002_v2_flags"
down_revision: str | Sequence[str] | None = "0001_v1_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARCHIVE_TABLES = (
    "voice_migration.downgrade_archive_v2_flags",
    "voice_migration.downgrade_archive_v2_tenant_overrides",
    "voice_migration.downgrade_archive_v2_flag_audit",
)


def upgrade() -> None:
    set_timeouts()
    run_revision_sql(revision)  # sql/revisions/0002_v2_flags/*.sql in file-name order


def downgrade() -> None:
    set_timeouts()
    run_revision_sql(revision, "downgrade")
    if not context.is_offline_mode():
        context.config.print_stdout(
            "0002_v2_flags: rollout flags, overrides and audit archived in %s", ", ".join(ARCHIVE_TABLES)
        )
