"""Re-apply every replaceable object at its current version, so databases built by pre-release trees receive the fixed definitions (issue #13).

Reserved in the revision chain; its content ships with issue #13.

Revision ID: 0006_reapply_0_1_objects
Revises: 0004_v2_backfill
"""

from collections.abc import Sequence

revision: str = "0006_reapply_0_1_objects"
down_revision: str | Sequence[str] | None = "0004_v2_backfill"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
