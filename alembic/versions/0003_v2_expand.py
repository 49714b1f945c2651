"""v2 expand: v2 columns and tables, catalogs, transform functions, dual-write triggers (DESIGN.md sections 2-4).

PLACEHOLDER: filled in by its owner; keeps the revision chain linear meanwhile.

Revision ID: 0003_v2_expand
Revises: 0002_v2_flags
"""

from collections.abc import Sequence

from voice_migration.migration_ops import set_timeouts

revision: str = "0003_v2_expand"
down_revision: str | Sequence[str] | None = "0002_v2_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()


def downgrade() -> None:
    set_timeouts()
