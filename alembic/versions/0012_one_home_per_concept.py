"""Install ``voice_agent_v2_flag_snapshot()`` — the whole flag state as one jsonb, for REST-only clients.

Issue #18 (the TypeScript client's Supabase source calls it through ``rpc``). The id was reserved for
issue #13's SQL-side consolidations, which did not ship in this revision; it carries the first object
that needed a home instead (the revision id is a name, its content is what this docstring says).

Downgrade drops the function (it is new in this revision).

Revision ID: 0012_one_home_per_concept
Revises: 0011_rollout_watch
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import execute, install_object, set_timeouts

revision: str = "0012_one_home_per_concept"
down_revision: str | Sequence[str] | None = "0011_rollout_watch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Install voice_agent_v2_flag_snapshot v1."""
    set_timeouts()
    install_object("voice_agent_v2_flag_snapshot", 1)


def downgrade() -> None:
    """Drop voice_agent_v2_flag_snapshot (introduced here)."""
    set_timeouts()
    execute("DROP FUNCTION IF EXISTS voice_agent_v2_flag_snapshot()")
