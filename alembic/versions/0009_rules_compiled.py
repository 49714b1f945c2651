"""Rules compiled: rule tables compiled into generated SQL, stamped with a checksum of the rules (issue #16).

Installs (``sql/revisions/0009_rules_compiled/10_rules_compiled.objects``):

* ``compile_rules`` and what it generates from ``outcome_rules`` and ``legacy_outcome_map`` — one CASE per
  inference stage (``rules_outcome_*``) and the stamp ``rules_compiled()`` (``rules_checksum()`` at compile
  time) — plus statement triggers on both rule tables that recompile on every change, so the rules stay
  data a DBA inserts; ``derive_call_outcomes`` v2 evaluates the compiled CASEs and refuses stale ones;
* the one registry of backfill phases (``backfill_phases``) and the one batching and retry policy
  (``backfill_policy``, ``backfill_pause``, ``backfill_halved``), read by ``backfill_step`` v2, the
  procedure ``backfill`` v2 and the Python driver (issue #13).

Downgrade: the triggers and the new functions go; ``derive_call_outcomes``, ``backfill_step`` and
``backfill`` get release 0.1's definitions back (v1).

Revision ID: 0009_rules_compiled
Revises: 0008_quarantine_hold
"""

from collections.abc import Sequence

from voice_migration.migration.revision_ops import run_revision_sql, set_timeouts

revision: str = "0009_rules_compiled"
down_revision: str | Sequence[str] | None = "0008_quarantine_hold"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Install the compiled rules, the phase registry and the backfill policy (this revision's SQL folder)."""
    set_timeouts()
    run_revision_sql(revision)


def downgrade() -> None:
    """Drop them and put back release 0.1's derive_call_outcomes, backfill_step and backfill."""
    set_timeouts()
    run_revision_sql(revision, "downgrade")
