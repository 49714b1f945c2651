"""Rollout watch: evaluations record and the pause state for the hands-off canary (issue #19).

Reserved in the revision chain; its content ships with issue #19.

Revision ID: 0011_rollout_watch
Revises: 0010_monitoring
"""

from collections.abc import Sequence

revision: str = "0011_rollout_watch"
down_revision: str | Sequence[str] | None = "0010_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
