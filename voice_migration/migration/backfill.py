"""Run the v2 backfill phases batch by batch, online and resumable (DESIGN.md section 2).

Each batch is one call of ``voice_migration.backfill_step`` (``sql/objects/backfill_step/``):
the database picks the next keys after the stored position, migrates them set-based and
stores the new position in the same transaction. This module only drives the loop, the
way pgroll and GitLab batched migrations do: one transaction per batch, a progress
callback, a stop flag checked between batches, retries with backoff when a v1 writer
holds a row longer than ``lock_timeout``, and a halved batch after a ``statement_timeout``.
The plain-SQL path (``CALL voice_migration.backfill(...)``) runs the very same step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import errors, pq, sql

from voice_migration.infra.errors import LockTimeoutExhausted, OperationRefused, UsageError

log = logging.getLogger(__name__)

# The phases, the default batch size and the retry/halving policy live in the database, in one place each:
# voice_migration.backfill_phases(), backfill_policy(), backfill_pause() and backfill_halved()
# (sql/objects/backfill_*/, revision 0009), read by this driver and by the procedure voice_migration.backfill.
# A database below 0009 (only a dry run of a database below head sees one: it rehearses the revisions up to
# 0003) has release 0.1's backfill_step, whose phases and the policy its driver had are fixed for good:
RELEASE_0_1_PHASES = (("configs", "transform configs"), ("calls", "infer outcomes"), ("metrics", "metrics"))
RELEASE_0_1_POLICY = (5000, 5, 0.2, 5.0)  # default batch size, tries per locked batch, first and max pause

Connection = psycopg.Connection[tuple[object, ...]]
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PhaseResult:
    """What one phase did: keys walked, rows written, how it was batched and how it ended."""

    phase: str
    rows_done: int  # keys walked in this run (configs or calls)
    rows_changed: int  # rows whose v2 values were written (metrics: rows inserted, updated or deleted)
    batches: int
    seconds: float
    quarantined: int  # walked rows that are in voice_migration.quarantine
    final_batch_size: int
    halvings: int  # statement timeouts that halved the batch
    lock_retries: int  # batches retried after a lock timeout
    finished: bool  # False when should_stop() ended the run early; run again to resume


@dataclass(frozen=True)
class Policy:
    """The backfill's batching and retry policy, as ``voice_migration.backfill_policy()`` states it."""

    default_batch_size: int
    lock_attempts: int
    first_pause_seconds: float
    max_pause_seconds: float
    in_database: bool = True  # False: a database below 0009, release 0.1's fixed policy


def _pause(conn: Connection, rules: Policy, failed_tries: int) -> float | None:
    """Seconds to wait after the ``failed_tries``-th lock timeout of a batch; None: give up.

    Asks ``voice_migration.backfill_pause()``, the rule the procedure uses too (the failed batch's
    transaction or savepoint is rolled back by now, so the connection can run it).
    """
    if rules.in_database:
        row = conn.execute("SELECT voice_migration.backfill_pause(%s)", (failed_tries,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])  # type: ignore[arg-type]
    if failed_tries >= rules.lock_attempts:  # release 0.1's driver, for a database below 0009
        return None
    return float(min(rules.first_pause_seconds * 2 ** (failed_tries - 1), rules.max_pause_seconds))


def _halved(conn: Connection, rules: Policy, size: int) -> int | None:
    """The batch size after a statement timeout (``voice_migration.backfill_halved()``); None: cannot halve."""
    if rules.in_database:
        row = conn.execute("SELECT voice_migration.backfill_halved(%s)", (size,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])  # type: ignore[call-overload]
    return size // 2 if size > 1 else None


def _has_function(conn: Connection, signature: str) -> bool:
    row = conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (signature,)).fetchone()
    return bool(row and row[0])


def phases(conn: Connection) -> tuple[tuple[str, str], ...]:
    """The backfill phases in run order, each with the step name ``migrate`` reports for it.

    From ``voice_migration.backfill_phases()``; release 0.1's phases on a database below revision 0009.
    """
    if not _has_function(conn, "voice_migration.backfill_phases()"):
        return RELEASE_0_1_PHASES
    rows = conn.execute("SELECT phase, step FROM voice_migration.backfill_phases() ORDER BY position").fetchall()
    return tuple((str(phase), str(step)) for phase, step in rows)


def policy(conn: Connection) -> Policy:
    """The batching and retry policy of ``voice_migration.backfill_policy()`` (release 0.1's below 0009)."""
    if not _has_function(conn, "voice_migration.backfill_policy()"):
        return Policy(*RELEASE_0_1_POLICY, in_database=False)
    row = conn.execute(
        "SELECT default_batch_size, lock_attempts, first_pause_seconds, max_pause_seconds "
        "FROM voice_migration.backfill_policy()"
    ).fetchone()
    assert row is not None
    size, attempts, first, most = row
    return Policy(int(size), int(attempts), float(first), float(most))  # type: ignore[call-overload, arg-type]


@dataclass(frozen=True)
class _Step:
    last_key: str | None
    rows_done: int
    rows_changed: int
    quarantined: int
    finished: bool


def run_phase(
    conn: Connection,
    phase: str,
    *,
    batch_size: int | None = None,
    tenant_ids: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    commit: bool = True,
) -> PhaseResult:
    """Run ``phase`` from its stored position to the end, one batch per transaction.

    ``commit=True`` commits every batch (any transaction already open on ``conn`` is
    committed first); ``commit=False`` runs every batch in a savepoint of the caller's
    open transaction, so a dry run can roll all of it back. ``on_progress(phase, done,
    total)`` is called after each batch; ``should_stop()`` is checked before each batch.
    ``batch_size=None`` is the policy's default. Raises :class:`LockTimeoutExhausted` when a
    batch stays locked through every try the policy allows.
    """
    known = [p for p, _ in phases(conn)]
    if phase not in known:
        raise UsageError(f"unknown backfill phase {phase!r}: use one of {', '.join(known)}")
    rules = policy(conn)
    batch_size = rules.default_batch_size if batch_size is None else batch_size
    if batch_size < 1:
        raise UsageError(f"batch size must be at least 1, got {batch_size}")
    tenants = list(tenant_ids) if tenant_ids is not None else None
    _prepare_transaction(conn, commit)
    total = _key_count(conn, phase, tenants)
    done = _resumed_rows(conn, phase, tenants)
    started = time.perf_counter()
    size, halvings, lock_retries = batch_size, 0, 0
    rows_done = rows_changed = quarantined = batches = 0
    finished = False
    while not finished:
        if should_stop is not None and should_stop():
            break
        if commit and conn.info.transaction_status == pq.TransactionStatus.INTRANS:
            conn.commit()  # so that the batch below is a transaction of its own, not a savepoint
        step, size, halved, retried = _run_batch(conn, phase, size, tenants, rules)
        halvings += halved
        lock_retries += retried
        batches += 1
        rows_done += step.rows_done
        rows_changed += step.rows_changed
        quarantined += step.quarantined
        finished = step.finished
        done += step.rows_done
        if on_progress is not None:
            on_progress(phase, total if finished else min(done, total), total)
    return PhaseResult(
        phase=phase,
        rows_done=rows_done,
        rows_changed=rows_changed,
        batches=batches,
        seconds=time.perf_counter() - started,
        quarantined=quarantined,
        final_batch_size=size,
        halvings=halvings,
        lock_retries=lock_retries,
        finished=finished,
    )


def pending_counts(conn: Connection, tenant_ids: Sequence[str] | None = None) -> dict[str, int]:
    """How many rows each phase would write now: configs to migrate, calls without an outcome,
    metrics rows to insert, update or delete. Read-only; the metrics count computes every metric."""
    tenants = list(tenant_ids) if tenant_ids is not None else None
    counts: dict[str, int] = {}
    for phase, _ in phases(conn):
        row = conn.execute("SELECT voice_migration.backfill_pending(%s, %s::text[])", (phase, tenants)).fetchone()
        counts[phase] = int(row[0]) if row and row[0] is not None else 0  # type: ignore[call-overload]
    return counts


def _prepare_transaction(conn: Connection, commit: bool) -> None:
    status = conn.info.transaction_status
    if commit:
        if status == pq.TransactionStatus.INTRANS:
            conn.commit()
        return
    if conn.autocommit and status == pq.TransactionStatus.IDLE:
        raise UsageError(
            "commit=False runs the batches in the caller's transaction, but the connection is in "
            "autocommit mode with no transaction open; open one (conn.transaction()) or use commit=True"
        )
    if status == pq.TransactionStatus.IDLE:
        conn.execute("SELECT 1")  # opens the implicit transaction the batches' savepoints live in


def _run_batch(
    conn: Connection, phase: str, size: int, tenants: list[str] | None, rules: Policy
) -> tuple[_Step, int, int, int]:
    """One batch, retried on lock timeouts and halved on statement timeouts (GitLab style), by ``rules``."""
    halvings = retries = 0
    while True:
        try:
            # Idle connection: a real transaction, committed here. Inside the caller's
            # transaction (commit=False): a savepoint, so a failed batch can be retried.
            with conn.transaction():
                row = conn.execute(
                    "SELECT last_key, rows_done, rows_changed, quarantined, finished "
                    "FROM voice_migration.backfill_step(%s, %s, %s::text[])",
                    (phase, size, tenants),
                ).fetchone()
        except errors.LockNotAvailable as exc:
            retries += 1
            pause = _pause(conn, rules, retries)
            if pause is None:
                raise LockTimeoutExhausted(
                    f"the {phase} backfill could not lock its next batch in {retries} attempts "
                    f"(lock_timeout {_setting(conn, 'lock_timeout')} each): another transaction holds those "
                    "rows; find it in pg_stat_activity and let it finish or end it, then run again: "
                    "the backfill resumes after the last committed batch"
                ) from exc
            # The operator sees why the run is slow, and which session to look at, while it waits.
            log.warning(
                "%s backfill: the next batch is locked by another transaction (attempt %d of %d); retrying in %.1f s",
                phase, retries, rules.lock_attempts, pause,
            )  # fmt: skip
            time.sleep(pause)
            continue
        except errors.QueryCanceled as exc:
            if "statement timeout" not in str(exc):
                raise
            halved = _halved(conn, rules, size)
            if halved is None:
                raise OperationRefused(
                    f"the {phase} backfill cannot finish even one row within statement_timeout "
                    f"{_setting(conn, 'statement_timeout')}: raise VOICE_MIGRATION_STATEMENT_TIMEOUT and "
                    "run again; the backfill resumes after the last committed batch"
                ) from exc
            log.warning(
                "%s backfill: statement timeout (%s) on a batch of %d rows; batch size halved to %d and retried",
                phase, _setting(conn, "statement_timeout"), size, halved,
            )  # fmt: skip
            size = halved
            halvings += 1
            continue
        assert row is not None
        last_key, rows_done, rows_changed, quarantined, finished = row
        step = _Step(
            last_key=str(last_key) if last_key is not None else None,
            rows_done=int(rows_done),  # type: ignore[call-overload]
            rows_changed=int(rows_changed),  # type: ignore[call-overload]
            quarantined=int(quarantined),  # type: ignore[call-overload]
            finished=bool(finished),
        )
        return step, size, halvings, retries


def _key_count(conn: Connection, phase: str, tenants: list[str] | None) -> int:
    table = "voice_agent_calls" if phase == "calls" else "voice_agent_configs"
    query = sql.SQL("SELECT count(*) FROM {} WHERE %(t)s::text[] IS NULL OR tenant_id = ANY (%(t)s::text[])").format(
        sql.Identifier(table)
    )
    row = conn.execute(query, {"t": tenants}).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def _resumed_rows(conn: Connection, phase: str, tenants: list[str] | None) -> int:
    """Keys an interrupted earlier run already walked (0 when the last pass finished)."""
    row = conn.execute(
        "SELECT rows_done FROM voice_migration.backfill_progress "
        "WHERE phase = %s AND scope = voice_migration.backfill_scope(%s::text[]) AND finished_at IS NULL",
        (phase, tenants),
    ).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def _setting(conn: Connection, name: str) -> str:
    row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    return str(row[0]) if row else "?"
