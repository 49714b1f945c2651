"""v2 backfill: migrate every existing row (batched, resumable), then validate constraints (DESIGN.md section 2).

PLACEHOLDER: filled in by its owner; keeps the revision chain linear meanwhile.

Revision ID: 0004_v2_backfill
Revises: 0003_v2_expand
"""

from collections.abc import Sequence

from voice_migration.migration_ops import set_timeouts

revision: str = "0004_v2_backfill"
down_revision: str | Sequence[str] | None = "0003_v2_expand"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()


def downgrade() -> None:
    set_timeouts()
