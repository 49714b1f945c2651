"""Quarantine hold: maintained set of held tenants and the flag decision that serves them v1 (issue #15).

Creates ``public.voice_agent_v2_held_tenants`` (``sql/revisions/0008_quarantine_hold/``): every tenant with a
config not in v2 shape (``schema_version`` not ``'v2'``, e.g. quarantined), kept by statement triggers on
``voice_agent_configs`` (objects ``sync_held_tenants`` and ``voice_agent_configs_held_*`` v1) and recomputable with
``voice_migration.refresh_held_tenants()`` (object ``refresh_held_tenants`` v1); fills it once under the
triggers' lock; installs ``voice_agent_v2_enabled`` v2, which answers false for a held tenant unless an
override says otherwise (DESIGN.md section 5).

The downgrade drops the set (derived data: nothing to archive) and reinstalls ``voice_agent_v2_enabled`` v1.

Revision ID: 0008_quarantine_hold
Revises: 0007_live_safety
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import run_revision_sql, set_timeouts

revision: str = "0008_quarantine_hold"
down_revision: str | Sequence[str] | None = "0007_live_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The held set, its triggers, one fill, then voice_agent_v2_enabled v2 (sql/revisions/0008_quarantine_hold/)."""
    set_timeouts()
    run_revision_sql(revision)


def downgrade() -> None:
    """voice_agent_v2_enabled v1 again, then drop the held set and its objects (derived data)."""
    set_timeouts()
    run_revision_sql(revision, "downgrade")
