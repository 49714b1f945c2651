"""Re-apply every replaceable object of release 0.1 at v1, so pre-release databases get the released definitions.

Issue #13.

Revisions 0002-0004 created their functions, triggers, catalogs and rules from files that were edited
after some databases had already run them (``backfill_step``, the flag triggers' functions, the new
``voice_agent_v2_only_filter_grew``); Alembic never re-runs a revision, so those databases kept the old
definitions. This revision installs every object listed in
``sql/revisions/0006_reapply_0_1_objects/10_release_0_1.objects`` at version 1
(``sql/objects/<name>/v1.sql``, the exact text release 0.1 emits), in that file's order.

On a database built by release 0.1 it changes nothing (the same definitions again; tests/test_releases.py
checks it). Catalog and rule rows are ``ON CONFLICT DO NOTHING``: missing rows are added, rows a DBA added
or edited stay, nothing is deleted. The trigger objects come last: ``DROP TRIGGER`` takes an ACCESS
EXCLUSIVE lock on the table until the revision commits, under ``lock_timeout``.

Downgrade: nothing to undo. The upgrade re-applied the definitions of release 0.1, which is exactly what
the revision below (0004_v2_backfill) stands for; putting back a pre-release definition would re-introduce
the defects this revision removes, and those definitions are not part of any release.

Revision ID: 0006_reapply_0_1_objects
Revises: 0004_v2_backfill
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import run_revision_sql, set_timeouts

revision: str = "0006_reapply_0_1_objects"
down_revision: str | Sequence[str] | None = "0004_v2_backfill"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Install every release 0.1 object at v1 (the manifest in this revision's SQL folder)."""
    set_timeouts()
    run_revision_sql(revision)


def downgrade() -> None:
    """Nothing to undo: the upgrade re-applied release 0.1's own definitions (see the module docstring)."""
