"""Changing the rollout flags safely: one transaction, the flags row locked, who/what/why for the audit.

Every write to the flag tables made by this tool goes through :func:`flag_change`: it locks the single
flags row (``SELECT ... FOR UPDATE``), so concurrent changes run one after another and each validates
against, and is audited with, the value the previous one committed. The audit rows themselves are
written by triggers (``sql/objects/voice_agent_v2_audit_change/``) from the context set here, so a
change made by hand in psql is audited too. After the commit, :func:`announce` tells people
(``voice_migration.infra.notify``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import psycopg

from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.infra.events import emit
from voice_migration.infra.resources import read_sql

log = logging.getLogger(__name__)

Conn = psycopg.Connection[tuple[object, ...]]
Notifier = Callable[[str, str, Mapping[str, object]], None]
"""``(kind, message, details)``, the signature of :func:`voice_migration.infra.events.emit`."""


@cache
def flags_sql(name: str) -> str:
    """The text of ``sql/flags/<name>.sql`` (read once per process)."""
    return read_sql(f"flags/{name}.sql")


@dataclass(frozen=True)
class FlagState:
    """The flags row as read (and locked) at the start of a change, with the database clock."""

    enabled: bool
    percentage: int
    updated_at: datetime
    updated_by: str
    step_started_at: datetime
    database_now: datetime


@dataclass(frozen=True)
class FlagChange:
    """A change of the master switch and/or the percentage: before, after, who and why."""

    action: str
    changed_by: str
    reason: str | None
    old_enabled: bool
    old_percentage: int
    new_enabled: bool
    new_percentage: int
    changed_at: datetime

    def describe(self, *, new: bool) -> str:
        """``"25 %, master switch on"`` for the new (or old) side."""
        enabled, percentage = (
            (self.new_enabled, self.new_percentage) if new else (self.old_enabled, self.old_percentage)
        )
        return f"{percentage} %, master switch {'on' if enabled else 'off'}"

    def as_dict(self) -> dict[str, object]:
        """JSON for the commands that change the flags (``change`` in docs/schemas/rollback.schema.json)."""
        return {
            "action": self.action,
            "changed_by": self.changed_by,
            "reason": self.reason,
            "old": {"enabled": self.old_enabled, "percentage": self.old_percentage},
            "new": {"enabled": self.new_enabled, "percentage": self.new_percentage},
            "changed_at": self.changed_at.isoformat().replace("+00:00", "Z"),
        }

    def details(self) -> dict[str, object]:
        """What a notification shows."""
        return {
            "action": self.action,
            "by": self.changed_by,
            "before": self.describe(new=False),
            "after": self.describe(new=True),
            "reason": self.reason or "-",
        }


@dataclass(frozen=True)
class OverrideChange:
    """A change of one tenant's override; ``None`` means "no override" (the bucket decides)."""

    action: str
    tenant_id: str
    changed_by: str
    reason: str | None
    old: bool | None
    new: bool | None

    @staticmethod
    def describe_value(value: bool | None) -> str:
        """``"forced into v2"``, ``"kept on v1"`` or ``"no override"``."""
        return "no override" if value is None else ("forced into v2" if value else "kept on v1")

    def as_dict(self) -> dict[str, object]:
        """JSON for the commands that change an override (``null`` = no override; the bucket decides)."""
        return {
            "action": self.action,
            "tenant_id": self.tenant_id,
            "changed_by": self.changed_by,
            "reason": self.reason,
            "old": self.old,
            "new": self.new,
        }

    def details(self) -> dict[str, object]:
        """What a notification shows."""
        return {
            "action": self.action,
            "tenant": self.tenant_id,
            "by": self.changed_by,
            "before": self.describe_value(self.old),
            "after": self.describe_value(self.new),
            "reason": self.reason or "-",
        }


class FlagTransaction:
    """The writes allowed while the flags row is locked; made by :func:`flag_change`."""

    def __init__(self, conn: Conn, state: FlagState, action: str, changed_by: str, reason: str | None) -> None:
        self.conn = conn
        self.state = state
        self.action = action
        self.changed_by = changed_by
        self.reason = reason

    def set_reason(self, reason: str | None) -> None:
        """Replace the reason the audit records for the writes that follow."""
        self.reason = reason
        self.conn.execute(
            flags_sql("change_context"), {"changed_by": self.changed_by, "action": self.action, "reason": reason}
        )

    def set_flags(self, *, enabled: bool, percentage: int) -> FlagChange:
        """Write the master switch and the percentage."""
        row = self.conn.execute(flags_sql("update_flags"), {"enabled": enabled, "percentage": percentage}).fetchone()
        if row is None:
            raise flags_row_missing()
        return FlagChange(
            action=self.action,
            changed_by=self.changed_by,
            reason=self.reason,
            old_enabled=self.state.enabled,
            old_percentage=self.state.percentage,
            new_enabled=enabled,
            new_percentage=percentage,
            changed_at=as_datetime(row[0]),
        )

    def current_override(self, tenant_id: str, *, must_exist: bool) -> bool | None:
        """The tenant's override (None: none); refuse an id ``tenants`` lacks when ``must_exist``."""
        row = self.conn.execute(flags_sql("tenant_override"), {"tenant_id": tenant_id}).fetchone()
        assert row is not None  # the query always returns one row
        exists, override = bool(row[0]), row[1]
        if must_exist and not exists:
            raise OperationRefused(
                f"tenant {tenant_id!r} does not exist in the tenants table: nothing was changed; "
                "check the id (ids are case-sensitive) with `SELECT id FROM tenants WHERE id ILIKE ...`"
            )
        return None if override is None else bool(override)

    def set_override(self, tenant_id: str, enabled: bool, old: bool | None) -> OverrideChange:
        """Force the tenant into v2 (True) or keep it on v1 (False)."""
        self.conn.execute(
            flags_sql("upsert_override"), {"tenant_id": tenant_id, "enabled": enabled, "reason": self.reason}
        )
        return self._override_change(tenant_id, old, enabled)

    def clear_override(self, tenant_id: str, old: bool | None) -> OverrideChange:
        """Remove the tenant's override, so its bucket decides again."""
        self.conn.execute(flags_sql("delete_override"), {"tenant_id": tenant_id})
        return self._override_change(tenant_id, old, None)

    def _override_change(self, tenant_id: str, old: bool | None, new: bool | None) -> OverrideChange:
        return OverrideChange(
            action=self.action, tenant_id=tenant_id, changed_by=self.changed_by, reason=self.reason, old=old, new=new
        )


def require_actor(changed_by: str) -> str:
    """Return ``changed_by`` stripped; refuse an empty one (the audit must say who)."""
    actor = changed_by.strip()
    if not actor:
        raise UsageError("who makes the change is empty: pass --by with your name or e-mail (it goes to the audit)")
    return actor


def require_percentage(percentage: int, what: str = "the rollout percentage") -> int:
    """Return ``percentage`` if it is a whole number in 0..100, else raise :class:`UsageError`."""
    if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 <= percentage <= 100:
        raise UsageError(f"{what} must be a whole number from 0 to 100, got {percentage!r}; pass e.g. 25")
    return percentage


@contextmanager
def flag_change(conn: Conn, *, action: str, changed_by: str, reason: str | None) -> Iterator[FlagTransaction]:
    """Run a flag change in a transaction that holds the flags row lock; commit when the block ends.

    On an idle connection the change commits when the block ends (and NOTIFY fires then); inside a
    caller's open transaction it becomes a savepoint and takes effect when the caller commits.
    """
    actor = require_actor(changed_by)
    note = reason.strip() if reason and reason.strip() else None
    with conn.transaction():
        with flag_tables_required():
            try:
                row = conn.execute(flags_sql("lock_flags")).fetchone()
            except psycopg.errors.LockNotAvailable as exc:
                raise OperationRefused(
                    "another change to the rollout flags is in progress (the flags row stayed locked past the lock "
                    "timeout): nothing was changed; run the command again in a moment"
                ) from exc
        if row is None:
            raise flags_row_missing()
        state = FlagState(
            enabled=bool(row[0]),
            percentage=as_int(row[1]),
            updated_at=as_datetime(row[2]),
            updated_by=str(row[3]),
            step_started_at=as_datetime(row[4]),
            database_now=as_datetime(row[5]),
        )
        change = FlagTransaction(conn, state, action, actor, None)
        change.set_reason(note)
        yield change


def announce(change: FlagChange | OverrideChange, message: str, notify: Notifier | None = None) -> None:
    """Announce a committed flag change as an event (the CLI sends it to Slack/e-mail); never raises.

    The notification kind is the audit action, prefixed ``rollout_`` unless it is a rollback
    (``rollback_tenant``, ``rollback_partial``, ``rollback_total``). ``notify`` replaces
    :func:`voice_migration.infra.events.emit` (``rollout watch`` passes its own).
    """
    kind = change.action if change.action.startswith("rollback_") else f"rollout_{change.action}"
    log.info("%s: %s", kind, message)
    (notify or emit)(kind, message, change.details())


@contextmanager
def flag_tables_required() -> Iterator[None]:
    """Turn "no such table/function" into one clear line: the flag revision is not applied."""
    try:
        yield
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedFunction) as exc:
        raise OperationRefused(
            "the rollout flag tables do not exist: the database is not at revision 0002_v2_flags or later; "
            "run `alembic upgrade head` (or `voice-migration migrate`) first"
        ) from exc


def flags_row_missing() -> OperationRefused:
    """The error for a flags row this role cannot see (row-level security without a policy)."""
    return OperationRefused(
        "the voice_agent_v2_flags row is not visible to this role (row-level security): "
        "connect as the owner of the flag tables, or grant access as docs/rollout.md explains"
    )


def as_datetime(value: object) -> datetime:
    """``value`` typed as the datetime the database returned."""
    assert isinstance(value, datetime)
    return value


def as_int(value: object) -> int:
    """``value`` typed as the integer the database returned."""
    assert isinstance(value, int)
    return value
