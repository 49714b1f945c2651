"""The cached rollout check for application code: no query per call, fresh within a second of a change.

:class:`CachedFlagCheck` keeps a :class:`FlagSnapshot` (master switch, percentage, every override and,
from revision 0008_quarantine_hold on, every held tenant) in process and evaluates the rollout rule in
Python, with the same bucket as SQL (:func:`bucket`). A background thread with its own connection
LISTENs on ``voice_agent_v2_flags`` (the flag triggers, and the held-set triggers, NOTIFY at commit) and
reloads the snapshot at once on a notification, and at the latest every ``ttl`` seconds,
so a lost notification (a dropped connection, a pooler that does not pass LISTEN) costs at most ``ttl``.

Failure policy (fail static): when the database cannot be reached the last snapshot keeps serving and
the thread retries; before the first snapshot ever loads, every tenant gets v1 (``False``), which is
always safe while both versions run. The hot path takes no lock: the snapshot is an immutable object
swapped by one reference assignment.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType, TracebackType

import psycopg
from psycopg import sql

from voice_migration.infra.db import connect
from voice_migration.infra.errors import VoiceMigrationError
from voice_migration.infra.settings import Settings
from voice_migration.rollout.hold import held_set_exists
from voice_migration.rollout.state import as_int, flags_sql

log = logging.getLogger(__name__)

CHANNEL = "voice_agent_v2_flags"
DEFAULT_TTL_SECONDS = 30.0
# How often the listener thread looks up from its wait to notice close(); a notification wakes it at once.
_POLL_SECONDS = 0.2
_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
# Bounded so that arbitrary ids from requests cannot grow memory without end (~150 bytes an entry).
_BUCKET_CACHE_SIZE = 1 << 18


@lru_cache(maxsize=_BUCKET_CACHE_SIZE)
def bucket(tenant_id: str) -> int:
    """The tenant's rollout bucket 0..99: ``voice_agent_v2_bucket`` in SQL, computed in Python.

    md5 over the UTF-8 bytes, first 8 hex digits as an unsigned 32-bit number, modulo 100.
    Memoised: a tenant's bucket never changes.
    """
    digest = hashlib.md5(tenant_id.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % 100


@dataclass(frozen=True, slots=True)
class FlagSnapshot:
    """The whole flag state at one moment, and when (``time.monotonic()``) it was loaded."""

    enabled: bool
    percentage: int
    overrides: Mapping[str, bool]
    loaded_at: float
    held: frozenset[str] = frozenset()

    def is_enabled(self, tenant_id: str) -> bool:
        """The rollout rule (DESIGN.md section 5): master switch off -> False; else the override;
        else False when the tenant is held (a config not in v2 shape); else bucket < percentage."""
        if not self.enabled:
            return False
        override = self.overrides.get(tenant_id)
        if override is not None:
            return override
        if tenant_id in self.held:
            return False
        return bucket(tenant_id) < self.percentage


def load_snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> FlagSnapshot:
    """Read the flag state in one statement (``sql/flags/snapshot_held.sql``, or ``snapshot.sql``
    on a database older than revision 0008_quarantine_hold, which has no held set)."""
    with_held = held_set_exists(conn)
    row = conn.execute(flags_sql("snapshot_held" if with_held else "snapshot")).fetchone()
    if row is None:
        # Row-level security hides the row from this role: serve v1 rather than guess.
        log.warning("the voice_agent_v2_flags row is not visible to this role; every tenant gets v1")
        return FlagSnapshot(False, 0, MappingProxyType({}), time.monotonic())
    overrides = row[2] if isinstance(row[2], dict) else {}
    return FlagSnapshot(
        enabled=bool(row[0]),
        percentage=as_int(row[1]),
        overrides=MappingProxyType({str(k): bool(v) for k, v in overrides.items()}),
        loaded_at=time.monotonic(),
        held=frozenset(str(t) for t in row[3]) if with_held and isinstance(row[3], list) else frozenset(),
    )


class CachedFlagCheck:
    """A thread-safe, in-process rollout check refreshed by NOTIFY and on a TTL.

    Use it as a context manager, or call :meth:`close` when done. ``listen=False`` relies on the TTL
    only (for connections through a transaction-mode pooler, where LISTEN does not work).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        listen: bool = True,
        startup_timeout: float | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive seconds, got {ttl!r}")
        self.settings = settings
        self.ttl = ttl
        self.listen = listen
        self.startup_timeout = float(settings.connect_timeout) if startup_timeout is None else startup_timeout
        self._snapshot: FlagSnapshot | None = None
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._loaded = threading.Event()
        self._thread: threading.Thread | None = None
        self._startup_over = False
        self._failures = 0
        _instances.add(self)

    @property
    def snapshot(self) -> FlagSnapshot | None:
        """The snapshot in use (None before the first load)."""
        return self._snapshot

    def is_enabled(self, tenant_id: str) -> bool:
        """Whether ``tenant_id`` should use voice agent v2; never queries the database on this path."""
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._wait_for_first_snapshot()
            if snapshot is None:
                return False
        return snapshot.is_enabled(tenant_id)

    def start(self) -> None:
        """Start the listener thread and wait (up to ``startup_timeout``) for the first snapshot."""
        self._wait_for_first_snapshot()

    def close(self) -> None:
        """Stop the listener thread and close its connection. Safe to call twice."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.startup_timeout + 1.0)

    def __enter__(self) -> CachedFlagCheck:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _wait_for_first_snapshot(self) -> FlagSnapshot | None:
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="voice-agent-v2-flags", daemon=True)
                self._thread.start()
        # Only the first checks wait; after that, until a snapshot loads, every check answers v1 at once.
        if not self._startup_over:
            if not self._loaded.wait(self.startup_timeout):
                log.warning(
                    "voice agent v2 flag cache: no flags loaded within %.1f s; every tenant gets v1 until they load",
                    self.startup_timeout,
                )
            self._startup_over = True
        return self._snapshot

    def _reset_after_fork(self) -> None:
        # The listener thread does not exist in a forked child: start a new one on the next check,
        # and do not serve the parent's snapshot meanwhile (it would never refresh).
        self._start_lock = threading.Lock()
        self._loaded = threading.Event()
        self._thread = None
        self._startup_over = False
        self._snapshot = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self.settings, autocommit=True, session=self.listen) as conn:
                    self._serve(conn)
                return
            except (psycopg.Error, VoiceMigrationError) as exc:
                delay = _RETRY_SECONDS[min(self._failures, len(_RETRY_SECONDS) - 1)]
                self._failures += 1
                log.warning(
                    "voice agent v2 flag cache: %s; serving the last known flags, retrying in %.1f s",
                    " ".join(str(exc).split()),
                    delay,
                )
                self._stop.wait(delay)

    def _serve(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        if self.listen:
            # LISTEN before the first load: a change committed in between is then not missed.
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        self._reload(conn)
        deadline = time.monotonic() + self.ttl
        while not self._stop.is_set():
            wait = max(0.0, min(_POLL_SECONDS, deadline - time.monotonic()))
            notified = False
            if self.listen:
                for _ in conn.notifies(timeout=wait, stop_after=1):
                    notified = True
            else:
                self._stop.wait(wait)
            if self._stop.is_set():
                return
            if notified or time.monotonic() >= deadline:
                self._reload(conn)
                deadline = time.monotonic() + self.ttl

    def _reload(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._snapshot = load_snapshot(conn)
        self._failures = 0
        self._loaded.set()


_instances: weakref.WeakSet[CachedFlagCheck] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for instance in list(_instances):
        instance._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
