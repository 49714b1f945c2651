"""Live safety: objects needed by the non-blocking dry run and live-traffic-tolerant verification (issue #14).

Reserved in the revision chain; its content ships with issue #14.

Revision ID: 0007_live_safety
Revises: 0006_reapply_0_1_objects
"""

from collections.abc import Sequence

revision: str = "0007_live_safety"
down_revision: str | Sequence[str] | None = "0006_reapply_0_1_objects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
