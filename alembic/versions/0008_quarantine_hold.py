"""Quarantine hold: maintained set of held tenants and the flag decision that serves them v1 (issue #15).

Reserved in the revision chain; its content ships with issue #15.

Revision ID: 0008_quarantine_hold
Revises: 0007_live_safety
"""

from collections.abc import Sequence

revision: str = "0008_quarantine_hold"
down_revision: str | Sequence[str] | None = "0007_live_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
