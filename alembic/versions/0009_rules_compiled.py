"""Rules compiled: rule tables compiled into generated SQL, stamped with a checksum of the rules (issue #16).

Reserved in the revision chain; its content ships with issue #16.

Revision ID: 0009_rules_compiled
Revises: 0008_quarantine_hold
"""

from collections.abc import Sequence

revision: str = "0009_rules_compiled"
down_revision: str | Sequence[str] | None = "0008_quarantine_hold"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
