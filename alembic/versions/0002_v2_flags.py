"""v2 flags: feature-flag tables and functions for the tenant-by-tenant rollout (DESIGN.md sections 3, 5).

PLACEHOLDER: filled in by its owner; keeps the revision chain linear meanwhile.

Revision ID: 0002_v2_flags
Revises: 0001_v1_baseline
"""

from collections.abc import Sequence

from voice_migration.migration_ops import set_timeouts

revision: str = "0002_v2_flags"
down_revision: str | Sequence[str] | None = "0001_v1_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()


def downgrade() -> None:
    set_timeouts()
