"""Monitoring: migration progress and rollout cohorts for psql, Supabase Studio, Grafana, Metabase (issue #17).

Installs ``voice_migration.migration_progress`` (a view: total, migrated, quarantined and pending rows per
backfill phase) and ``voice_migration.rollout_cohorts(window interval)`` (a function: the v1 and v2
cohorts the health gate compares), manifest ``sql/revisions/0010_monitoring/10_monitoring.objects``, and
builds the index they read calls through, ``voice_agent_calls_created_at_idx``, ``CONCURRENTLY`` outside
the transaction (``sql/revisions/0010_monitoring/concurrently/``). Offline (``--sql``) the index build is
printed outside the revision's transaction, for psql in autocommit mode.

Downgrade: drops the view and the function (new here), then the index ``CONCURRENTLY``.

Revision ID: 0010_monitoring
Revises: 0009_rules_compiled
"""

from collections.abc import Sequence

from alembic import op
from voice_migration.migration.revision_ops import execute, run_revision_sql, run_sql_file, set_timeouts

revision: str = "0010_monitoring"
down_revision: str | Sequence[str] | None = "0009_rules_compiled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Build the calls index concurrently, then install migration_progress v1 and rollout_cohorts v1."""
    set_timeouts()
    with op.get_context().autocommit_block():
        run_sql_file("revisions/0010_monitoring/concurrently/10_calls_created_at_index.sql")
    run_revision_sql(revision)


def downgrade() -> None:
    """Drop the view and the function, then the index, without blocking writers."""
    set_timeouts()
    run_revision_sql(revision, "downgrade")
    with op.get_context().autocommit_block():
        execute("DROP INDEX CONCURRENTLY IF EXISTS voice_agent_calls_created_at_idx")
