"""Quarantine hold: maintained set of held tenants and the flag decision that serves them v1 (issue #15).

Creates ``public.voice_agent_v2_held_tenants`` (``sql/hold/10_held_tenants.sql``): every tenant with a
config not in v2 shape (``schema_version`` not ``'v2'``, e.g. quarantined), kept by statement triggers on
``voice_agent_configs`` (object ``voice_agent_v2_held_tenants_sync`` v1) and recomputable with
``voice_migration.refresh_held_tenants()`` (object ``refresh_held_tenants`` v1); fills it once under the
triggers' lock; installs ``voice_agent_v2_enabled`` v2, which answers false for a held tenant unless an
override says otherwise (DESIGN.md section 5).

The downgrade drops the set (derived data: nothing to archive) and reinstalls ``voice_agent_v2_enabled`` v1.

Revision ID: 0008_quarantine_hold
Revises: 0007_live_safety
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import install_object, run_sql_file, set_timeouts

revision: str = "0008_quarantine_hold"
down_revision: str | Sequence[str] | None = "0007_live_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()
    run_sql_file("hold/10_held_tenants.sql")
    install_object("refresh_held_tenants", 1)
    install_object("voice_agent_v2_held_tenants_sync", 1)
    run_sql_file("hold/20_fill.sql")
    install_object("voice_agent_v2_enabled", 2)


def downgrade() -> None:
    set_timeouts()
    install_object("voice_agent_v2_enabled", 1)
    run_sql_file("hold/downgrade.sql")
