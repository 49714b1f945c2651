"""Monitoring: migration progress, rollout cohorts and progress notices for the deploy log (issue #17).

Reserved in the revision chain; its content ships with issue #17.

Revision ID: 0010_monitoring
Revises: 0009_rules_compiled
"""

from collections.abc import Sequence

revision: str = "0010_monitoring"
down_revision: str | Sequence[str] | None = "0009_rules_compiled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
