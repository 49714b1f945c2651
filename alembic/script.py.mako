"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

from alembic import op
${imports if imports else ""}
from voice_migration.migration_ops import set_timeouts

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    set_timeouts()
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    set_timeouts()
    ${downgrades if downgrades else "pass"}
