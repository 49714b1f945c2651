"""The typed API: one function per ``voice-migration`` command, like alembic's ``command.py``.

Each function takes :class:`~voice_migration.infra.settings.Settings` plus the callbacks the
command needs, opens and closes its own connection, and returns a result object. None of them
prints. The CLI (``voice_migration/cli``) is a thin layer over this module: it parses options,
calls one function here and renders the result. A Python caller (a deploy script, a notebook,
a test) calls the same functions.

The callbacks:

* ``confirm(plan)`` — called once the command knows what it will do and before it does it;
  it raises to refuse (the CLI asks the operator);
* ``progress`` — a :class:`~voice_migration.progress.ProgressReporter` (default: log lines);
* ``notify(kind, message, details)`` — hears every event the command announces (a migration
  ended, a flag changed, a restore ran); the CLI passes
  :func:`voice_migration.infra.notify.send_notification`. Without it, events are only logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from voice_migration import flags, status
from voice_migration.demo.seed import SeedResult, SeedSpec, seed_v1
from voice_migration.infra import events
from voice_migration.infra.db import connect
from voice_migration.infra.events import Listener
from voice_migration.infra.settings import Settings
from voice_migration.migration import validation
from voice_migration.migration.backup import (
    BackupInfo,
    DropResult,
    create_backup,
    drop_backup,
    get_backup,
    list_backups,
    validate_backup_id,
)
from voice_migration.migration.backup_export import ExportResult, export_backup, import_backup
from voice_migration.migration.restore import RestorePlan, RestoreResult, plan_restore, restore_backup
from voice_migration.migration.run import MigrationOptions, MigrationPlan, MigrationResult, run_migration
from voice_migration.progress import ProgressReporter
from voice_migration.rollout import changes
from voice_migration.rollout.changes import AuditEntry
from voice_migration.rollout.health import HealthPolicy
from voice_migration.rollout.plan import DEFAULT_PLAN, RolloutPlan
from voice_migration.rollout.state import FlagChange, OverrideChange
from voice_migration.rollout.watch import (
    Evaluation,
    Pause,
    RecordedEvaluation,
    WatchConfig,
    evaluate_once,
    run_watch,
    watch_history,
)
from voice_migration.rollout.watch import resume as resume_watch
from voice_migration.status import MigrationStatus


@contextmanager
def _heard_by(notify: Listener | None) -> Iterator[None]:
    """Let ``notify`` hear the events announced inside the block (nothing when None)."""
    if notify is None:
        yield
        return
    with events.listening(notify):
        yield


# --- data ------------------------------------------------------------------------------------------------


def seed(settings: Settings, spec: SeedSpec) -> SeedResult:
    """``seed``: fill an empty v1 database with generated, deterministic data."""
    with connect(settings) as conn:
        return seed_v1(conn, spec)


def validate(
    settings: Settings,
    *,
    tenant_ids: Sequence[str] | None = None,
    checks: Sequence[str] | None = None,
    preflight: bool = False,
    apply_fix: bool = False,
) -> tuple[validation.ValidationReport, validation.FixReport | None]:
    """``validate``: the v2 checks (or the v1 pre-flight with ``preflight``; repairs first with ``apply_fix``)."""
    with connect(settings) as conn:
        if apply_fix:
            fixes = validation.fix(conn, tenant_ids, checks=checks)
            return fixes.validation, fixes
        if preflight:
            return validation.run_preflight(conn, tenant_ids, checks=checks), None
        return validation.run_validation(conn, checks=checks, tenant_ids=tenant_ids), None


def migrate(
    settings: Settings,
    options: MigrationOptions,
    *,
    confirm: Callable[[MigrationPlan], None] | None = None,
    progress: ProgressReporter | None = None,
    should_stop: Callable[[], bool] | None = None,
    notify: Listener | None = None,
) -> MigrationResult:
    """``migrate``: v1 -> v2 (or its dry run), see :mod:`voice_migration.migration.run`."""
    with _heard_by(notify):
        return run_migration(settings, options, reporter=progress, should_stop=should_stop, confirm=confirm)


# --- backups ---------------------------------------------------------------------------------------------


def backups_list(settings: Settings) -> list[BackupInfo]:
    """``backups list``: every backup, newest first."""
    with connect(settings, autocommit=True) as conn:
        return list_backups(conn)


def backups_create(settings: Settings, tenant_ids: Sequence[str] | None = None) -> BackupInfo:
    """``backups create``: a new backup of the tenants in scope (all when None)."""
    with connect(settings, autocommit=True) as conn:
        return create_backup(conn, tenant_ids)


def backups_drop(
    settings: Settings, backup_id: str, *, force: bool = False, confirm: Callable[[BackupInfo], None] | None = None
) -> DropResult:
    """``backups drop``: drop a backup's tables and manifest row (``confirm`` sees the backup first)."""
    validate_backup_id(backup_id)
    with connect(settings, autocommit=True) as conn:
        if confirm is not None:
            confirm(get_backup(conn, backup_id))
        return drop_backup(conn, backup_id, force=force)


def backups_export(settings: Settings, backup_id: str, directory: Path) -> ExportResult:
    """``backups export``: write a backup to ``directory/BACKUP_ID/`` (COPY files + manifest.json), streamed."""
    validate_backup_id(backup_id)
    with connect(settings, autocommit=True) as conn:
        return export_backup(conn, backup_id, directory)


def backups_import(settings: Settings, directory: Path) -> BackupInfo:
    """``backups import``: load an export into this database, every checksum verified before it appears."""
    with connect(settings, autocommit=True) as conn:
        return import_backup(conn, directory)


def restore(
    settings: Settings,
    backup_id: str,
    *,
    confirm: Callable[[RestorePlan], None] | None = None,
    with_total_rollback: bool = False,
    delete_newer: bool = False,
    by: str = "voice-migration",
    reason: str | None = None,
    notify: Listener | None = None,
) -> RestoreResult:
    """``rollback --level data``: restore a backup (``confirm`` sees the plan before anything changes).

    Refused while v2 serves tenants whose configs the backup holds in v1 shape, unless
    ``with_total_rollback`` turns the master switch off first; ``delete_newer`` also removes rows
    created after the backup (kept in the safety backup).
    """
    validate_backup_id(backup_id)
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        if confirm is not None:
            confirm(plan_restore(conn, backup_id))
        return restore_backup(
            conn, backup_id, with_total_rollback=with_total_rollback, delete_newer=delete_newer, by=by, reason=reason
        )


# --- rollout ---------------------------------------------------------------------------------------------


def rollout_status(settings: Settings) -> flags.RolloutStatus:
    """``rollout status``: the flags, tenants in v2, and both cohorts' calls over the last 24 h."""
    with connect(settings, autocommit=True) as conn:
        return flags.get_rollout_status(conn)


def set_percentage(
    settings: Settings, percentage: int, by: str, *, reason: str | None = None, notify: Listener | None = None
) -> FlagChange:
    """``rollout set-percentage``: set the percentage and turn the master switch on."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return flags.update_rollout_percentage(conn, percentage, by, reason=reason)


def enable_tenant(
    settings: Settings,
    tenant_id: str,
    by: str,
    *,
    reason: str | None = None,
    force: bool = False,
    notify: Listener | None = None,
) -> OverrideChange:
    """``rollout enable-tenant``: force a tenant into v2 whatever its bucket (a held tenant only with ``force``)."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return flags.enable_tenant_for_v2(conn, tenant_id, by, reason=reason, force=force)


def disable_tenant(
    settings: Settings, tenant_id: str, by: str, *, reason: str | None = None, notify: Listener | None = None
) -> OverrideChange:
    """``rollout disable-tenant``: keep a tenant on v1 whatever its bucket."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return flags.disable_tenant_for_v2(conn, tenant_id, by, reason=reason)


def clear_tenant(
    settings: Settings, tenant_id: str, by: str, *, reason: str | None = None, notify: Listener | None = None
) -> OverrideChange:
    """``rollout clear-tenant``: remove a tenant's override so its bucket decides again."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return flags.clear_tenant_override(conn, tenant_id, by, reason=reason)


def rollout_history(
    settings: Settings, *, limit: int = 20, tenant_id: str | None = None
) -> list[AuditEntry | RecordedEvaluation]:
    """``rollout history``: flag changes and the watcher's evaluations, newest first (``limit`` in all)."""
    with connect(settings, autocommit=True) as conn:
        entries = changes.rollout_history(conn, limit=limit, tenant_id=tenant_id)
        evaluations = [] if tenant_id else watch_history(conn, limit=limit)
    timeline: list[tuple[datetime, AuditEntry | RecordedEvaluation]] = [(e.changed_at, e) for e in entries]
    timeline += [(e.evaluated_at, e) for e in evaluations]
    return [item for _, item in sorted(timeline, key=lambda pair: pair[0], reverse=True)[:limit]]


def advance(
    settings: Settings,
    by: str,
    *,
    plan: RolloutPlan = DEFAULT_PLAN,
    policy: HealthPolicy | None = None,
    force: bool = False,
    reason: str | None = None,
    notify: Listener | None = None,
) -> changes.AdvanceResult:
    """``rollout advance``: the plan's next step when the health gate passes (or ``force``)."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return changes.advance(conn, by, plan=plan, policy=policy, force=force, reason=reason)


def watch(
    settings: Settings,
    config: WatchConfig,
    *,
    on_evaluation: Callable[[Evaluation], None],
    once: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
    notify: Listener | None = None,
) -> int:
    """``rollout watch``: evaluate the gate every ``config.interval`` (or ``once``); return how many ran."""
    if once:
        with connect(settings, autocommit=True) as conn:
            on_evaluation(
                evaluate_once(
                    conn,
                    auto_rollback=config.auto_rollback,
                    auto_advance=config.auto_advance,
                    consecutive=config.consecutive,
                    by=config.by,
                    plan=config.plan,
                    policy=config.policy,
                    interval=config.interval,
                    notify=notify,
                )
            )
        return 1
    return run_watch(
        lambda: connect(settings, autocommit=True),
        config,
        on_evaluation=on_evaluation,
        notify=notify,
        sleep=sleep,
        should_stop=should_stop,
    )


def rollout_check(
    settings: Settings, *, plan: RolloutPlan = DEFAULT_PLAN, policy: HealthPolicy | None = None
) -> changes.AdvanceResult:
    """``rollout check``: evaluate the advance gate as ``advance`` would, changing nothing."""
    with connect(settings, autocommit=True) as conn:
        return changes.check_advance(conn, plan=plan, policy=policy)


def migration_status(settings: Settings) -> MigrationStatus:
    """``status``: revision, backfill progress, quarantine, flags, held tenants and the latest backup."""
    with connect(settings) as conn:
        return status.migration_status(conn)


def resume(settings: Settings, by: str, *, reason: str | None = None) -> Pause | None:
    """``rollout resume``: lift the watcher's pause; None when it was not paused."""
    with connect(settings, autocommit=True) as conn:
        return resume_watch(conn, by, reason=reason)


# --- rollback levels tenant / partial / total (data is :func:`restore`) --------------------------------


def rollback_tenant(
    settings: Settings, tenant_id: str, by: str, *, reason: str | None = None, notify: Listener | None = None
) -> OverrideChange:
    """``rollback --level tenant``: keep one tenant on v1."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return changes.rollback_tenant(conn, tenant_id, by, reason=reason)


def rollback_partial(
    settings: Settings, target_percentage: int, by: str, *, reason: str | None = None, notify: Listener | None = None
) -> FlagChange:
    """``rollback --level partial``: lower the percentage."""
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return changes.rollback_partial(conn, target_percentage, by, reason=reason)


def rollback_total(settings: Settings, reason: str, by: str, *, notify: Listener | None = None) -> FlagChange:
    """``rollback --level total``: the master switch off, every tenant back to v1."""
    changes.require_reason(reason)
    with connect(settings, autocommit=True) as conn, _heard_by(notify):
        return changes.rollback_total(conn, reason, by)
