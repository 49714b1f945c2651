"""v2 backfill: migrate every existing row (batched, resumable), then validate constraints (DESIGN.md section 2).

Outside a transaction block (``autocommit_block``) it builds the calls index
``CONCURRENTLY`` and runs ``CALL voice_migration.backfill(...)``, a procedure that
commits after every batch, so v1 writers are never blocked for longer than
``lock_timeout`` and a killed upgrade resumes at the last committed batch. Offline
(``--sql``) the same statements are printed, for psql in autocommit mode.

Options: ``-x skip_backfill=true`` or ``config.attributes["skip_backfill"]`` (set by
``voice-migration migrate``, which runs the phases itself with progress);
``-x batch_size=N`` (default 5000).

Revision ID: 0004_v2_backfill
Revises: 0003_v2_expand
"""

from collections.abc import Sequence

from alembic import context, op
from voice_migration.infra.errors import ConfigurationError
from voice_migration.migration.revision_ops import execute, run_revision_sql, run_sql_file, set_timeouts

revision: str = "0004_v2_backfill"
down_revision: str | Sequence[str] | None = "0003_v2_expand"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_BATCH_SIZE = 5000


def _skip_backfill() -> bool:
    x_args = context.get_x_argument(as_dictionary=True)
    from_x = str(x_args.get("skip_backfill", "")).strip().lower() in {"1", "true", "yes", "on"}
    return bool(context.config.attributes.get("skip_backfill")) or from_x


def _batch_size() -> int:
    raw = str(context.get_x_argument(as_dictionary=True).get("batch_size", DEFAULT_BATCH_SIZE))
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"-x batch_size={raw!r} is not a positive whole number; use e.g. -x batch_size=5000")
    return int(raw)


def upgrade() -> None:
    set_timeouts()
    batch_size = _batch_size()
    with op.get_context().autocommit_block():
        # 0003's early index file (idempotent): a database upgraded before 0003 built it still gets it.
        run_sql_file("revisions/0003_v2_expand/concurrently/10_calls_index.sql")
        if not _skip_backfill():
            execute(f"CALL voice_migration.backfill({batch_size})")
    run_revision_sql(revision)  # sql/revisions/0004_v2_backfill/: VALIDATE CONSTRAINT


def downgrade() -> None:
    set_timeouts()
    # The v2 values stay (0003's downgrade archives them); only the index goes, without blocking writers.
    with op.get_context().autocommit_block():
        execute("DROP INDEX CONCURRENTLY IF EXISTS voice_agent_calls_tenant_config_idx")
