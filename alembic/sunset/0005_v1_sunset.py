"""v1 sunset (contract): drop the v1-only columns and the dual-write triggers (DESIGN.md section 2).

Guarded: it refuses, with one clear message, unless the rollout is at 100 % with the
master switch on, no tenant is held on v1, every config is migrated, every call has an
outcome and every v2 constraint is validated (``sql/revisions/0005_v1_sunset/10_guard.sql``). It lives in
its own version location, so only ``alembic -n sunset upgrade head`` reaches it; a plain
``alembic upgrade head`` never does. The v1-only values are archived in
``voice_migration.sunset_archive_*`` first; the downgrade restores them.

Revision ID: 0005_v1_sunset
Revises: 0012_one_home_per_concept (interim)
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import install_objects, run_revision_sql, set_timeouts

revision: str = "0005_v1_sunset"
# interim: issue #17 gives the sunset its own branch
down_revision: str | Sequence[str] | None = "0012_one_home_per_concept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    set_timeouts()
    run_revision_sql(revision)  # 10_guard.sql, then 20_contract.sql


def downgrade() -> None:
    set_timeouts()
    run_revision_sql(revision, "downgrade")
    install_objects("revisions/0003_v2_expand/90_triggers.objects")  # the dual-write triggers, as 0003 installs them
