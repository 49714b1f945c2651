"""v1 baseline: the v1 tables as they exist in production (DESIGN.md section 3; sql/revisions/0001_v1_baseline/).

A fresh database gets them from here; an existing v1 database is adopted with
``alembic stamp 0001_v1_baseline`` (or ``voice-migration migrate``, which asks
for that stamp when the database has no Alembic revision).

Revision ID: 0001_v1_baseline
Revises:
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import execute, run_revision_sql, set_timeouts

revision: str = "0001_v1_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()
    run_revision_sql(revision)  # sql/revisions/0001_v1_baseline/


def downgrade() -> None:
    set_timeouts()
    execute("DROP TABLE voice_agent_calls; DROP TABLE voice_agent_configs; DROP TABLE tenants")
