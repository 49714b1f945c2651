"""v2 expand: v2 columns and tables, catalogs, transform functions, dual-write triggers (DESIGN.md sections 2-4).

Everything here is catalog work or small tables: the v2 columns are nullable without a
default (no rewrite), and every v2 constraint is added ``NOT VALID`` (validated by
``0004_v2_backfill`` once the rows are filled). Each ALTER takes its short lock under
``lock_timeout``. The SQL lives in ``sql/revisions/0003_v2_expand/`` and runs in file-name order.

The downgrade first copies every v2 value into ``voice_migration.downgrade_archive_*``
and says so, then drops the v2 columns; the v1 columns of every row stay byte-identical.

Revision ID: 0003_v2_expand
Revises: 0002_v2_flags
"""

import logging
from collections.abc import Sequence

from alembic import context, op
from voice_migration.migration.revision_ops import revision_sql_files, run_revision_sql, run_sql_file, set_timeouts

revision: str = "0003_v2_expand"
down_revision: str | Sequence[str] | None = "0002_v2_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The file names of sql/revisions/0003_v2_expand/ give the order, and it matters: the rule tables'
# CHECKs use the normalisers, the rules reference the catalogs, the transform functions read the rule
# tables, the triggers call the transform. The two files that lock the live tables (80_v2_columns:
# ALTER TABLE takes ACCESS EXCLUSIVE on configs and calls; 90_triggers: CREATE TRIGGER a SHARE ROW
# EXCLUSIVE lock) come LAST: the revision is one transaction, and a lock is held until it commits, so
# everything else (functions, rule tables, catalogs) is done before v1 writers have to wait at all.
# The PL/pgSQL bodies that name v2 columns are only resolved when called.
CALLS_INDEX = "revisions/0003_v2_expand/concurrently/10_calls_index.sql"

ARCHIVE_TABLES = (
    "voice_migration.downgrade_archive_configs",
    "voice_migration.downgrade_archive_calls",
    "voice_migration.downgrade_archive_metrics",
)

log = logging.getLogger("alembic.runtime.migration")


def _rehearsal_in_callers_transaction() -> bool:
    # `voice-migration migrate --dry-run` hands Alembic a connection inside its own transaction, which
    # an autocommit block would commit: the rehearsal skips the early index (a speed aid, not a result).
    return context.config.attributes.get("connection") is not None


def upgrade() -> None:
    set_timeouts()
    if not _rehearsal_in_callers_transaction():
        # The calls index first, CONCURRENTLY (outside the transaction, v1 writers never blocked): the
        # dual-write triggers installed below look a config's calls up through it on every v1 write.
        # Without it each config update scanned the whole calls table until 0004 built the index,
        # stalling a live application for seconds (python -m bench load, docs/benchmarks.md).
        # 0004 runs the same idempotent file, so a database upgraded before this change still gets it.
        with op.get_context().autocommit_block():
            run_sql_file(CALLS_INDEX)
    run_revision_sql(revision)


def downgrade() -> None:
    set_timeouts()
    message = (
        "0003_v2_expand downgrade: v2 values archived in "
        + ", ".join(ARCHIVE_TABLES)
        + " (one archived_at generation per downgrade) before the v2 columns are dropped"
    )
    # downgrade/10_archive_v2.sql, then the message, then downgrade/20_drop_v2.sql (file-name order).
    for path in revision_sql_files(revision, "downgrade"):
        run_sql_file(path)
        if path.endswith("_archive_v2.sql"):
            context.config.print_stdout(message)
            log.info(message)
