"""Locking: one data-changing operation at a time (advisory lock), and retries on lock timeouts.

A session-level advisory lock is taken with ``pg_try_advisory_lock``, so a second run is
refused at once instead of queueing. It survives the per-batch commits of a migration and
is released when the operation ends or its connection dies (a killed process frees it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg

from voice_migration.infra.errors import LockTimeoutExhausted, OperationRefused

T = TypeVar("T")

# Two int4 keys: a namespace for this tool and the "data-changing operation" lock.
LOCK_NAMESPACE = 0x766D  # 'vm'
LOCK_OPERATION = 1


@contextmanager
def exclusive_operation(conn: psycopg.Connection[tuple[object, ...]], operation: str) -> Iterator[None]:
    """Hold the operation lock for the block; refuse with :class:`OperationRefused` if another holds it.

    ``conn`` must not be inside a transaction; the lock is taken and released outside any.
    """
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, LOCK_OPERATION)).fetchone()
    if not conn.autocommit:
        conn.commit()
    if not row or not row[0]:
        holder = conn.execute(
            "SELECT a.pid, a.application_name, to_char(a.backend_start AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD HH24:MI:SS') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2",
            (LOCK_NAMESPACE, LOCK_OPERATION),
        ).fetchone()
        if not conn.autocommit:
            conn.commit()
        who = f" (server pid {holder[0]}, {holder[1]}, connected since {holder[2]} UTC)" if holder else ""
        raise OperationRefused(
            f"cannot start {operation}: another voice-migration migrate or data restore is running{who}; "
            "wait for it to finish (or stop it), then run this again"
        )
    try:
        yield
    finally:
        # A dead connection has lost the lock with its session: nothing to release.
        if not (conn.closed or conn.broken):
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, LOCK_OPERATION))
            if not conn.autocommit:
                conn.commit()


def retry_on_lock_timeout(attempt: Callable[[], T], *, what: str, attempts: int = 3, pause: float = 0.5) -> T:
    """Run ``attempt`` (one whole transaction) again when it hits ``lock_timeout``; give up after ``attempts``.

    The pause doubles each time. The final failure is a :class:`LockTimeoutExhausted` (exit 1).
    """
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except psycopg.errors.LockNotAvailable as exc:
            if number == attempts:
                raise LockTimeoutExhausted(
                    f"{what} could not lock the tables it needs within the lock timeout, {attempts} times "
                    f"({' '.join(str(exc).split())}); a long transaction holds them: find it in pg_stat_activity, "
                    "or raise VOICE_MIGRATION_LOCK_TIMEOUT, and run this again"
                ) from exc
            time.sleep(pause * 2 ** (number - 1))
    raise AssertionError("unreachable")
