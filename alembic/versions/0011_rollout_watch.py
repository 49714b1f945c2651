"""Rollout watch: the evaluations record and the pause state of the hands-off canary (issue #19).

Creates ``voice_migration.rollout_evaluations`` (every evaluation of the health gate by
``voice-migration rollout watch``: cohorts, checks, verdict, action) and ``voice_migration.rollout_pauses``
(opened by an automatic rollback, closed by ``rollout resume --by WHO``); ``sql/watch/tables.sql``.
The downgrade drops both (``sql/watch/downgrade.sql``); the flag changes the watcher made stay in the
flag audit.

Revision ID: 0011_rollout_watch
Revises: 0010_monitoring
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import run_sql_file, set_timeouts

revision: str = "0011_rollout_watch"
down_revision: str | Sequence[str] | None = "0010_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()
    run_sql_file("watch/tables.sql")


def downgrade() -> None:
    set_timeouts()
    run_sql_file("watch/downgrade.sql")
