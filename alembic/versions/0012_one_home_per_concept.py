"""One home per concept: objects consolidated by issue #13 (retry/halving policy, checksum, phase registry).

Reserved in the revision chain; its content ships with issue #13.

Revision ID: 0012_one_home_per_concept
Revises: 0011_rollout_watch
"""

from collections.abc import Sequence

revision: str = "0012_one_home_per_concept"
down_revision: str | Sequence[str] | None = "0011_rollout_watch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
