"""Helpers used by the Alembic revisions: run a file from ``sql/`` and set lock-safe timeouts.

They work online and offline (``alembic upgrade --sql``): SQL goes through
``op.execute`` so that offline mode prints exactly what online mode runs.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from alembic import op
from voice_migration.infra.resources import read_sql
from voice_migration.infra.settings import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, validate_duration


def _as_text(sql_text: str) -> sa.TextClause:
    # text() treats ":name" as a bind parameter; our SQL has casts and literals
    # with colons, so every colon is escaped and rendered back verbatim.
    return sa.text(sql_text.replace(":", "\\:"))


def execute(sql_text: str) -> None:
    """Run (or, offline, print) one SQL text verbatim."""
    op.execute(_as_text(sql_text.rstrip().rstrip(";")))


def run_sql_file(relative_path: str) -> None:
    """Run (or print) ``sql/<relative_path>`` as one script."""
    execute(read_sql(relative_path))


def install_object(name: str, version: int) -> None:
    """Install version ``version`` of the replaceable object ``name``: run ``sql/objects/<name>/v<version>.sql``.

    Each file holds the complete, re-runnable definition of one object (function,
    procedure, trigger, view, or catalog/rule content) at that version. A revision
    names the version it installs; its downgrade installs the previous version (or
    drops the object when it introduced it). A changed object is a new file and a new
    revision, never an edit of a file a released revision runs.
    """
    run_sql_file(f"objects/{name}/v{version}.sql")


def set_timeouts() -> None:
    """Bound how long this revision may wait for a lock or run one statement.

    Values come from ``VOICE_MIGRATION_LOCK_TIMEOUT`` (default 2s) and
    ``VOICE_MIGRATION_STATEMENT_TIMEOUT`` (default no limit) at the time the
    revision runs or its SQL is generated. A revision that cannot get its lock
    in time fails and rolls back; nothing waits behind it for long.
    """
    lock_timeout = validate_duration(
        "VOICE_MIGRATION_LOCK_TIMEOUT", os.environ.get("VOICE_MIGRATION_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
    )
    statement_timeout = validate_duration(
        "VOICE_MIGRATION_STATEMENT_TIMEOUT",
        os.environ.get("VOICE_MIGRATION_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT),
    )
    execute(f"SET lock_timeout = '{lock_timeout}'")
    execute(f"SET statement_timeout = '{statement_timeout}'")
