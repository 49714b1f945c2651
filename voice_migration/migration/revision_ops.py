"""Helpers used by the Alembic revisions: run a revision's SQL folder, install objects, set lock-safe timeouts.

They work online and offline (``alembic upgrade --sql``): SQL goes through
``op.execute`` so that offline mode prints exactly what online mode runs.

Layout (docs/INTERNALS.md, "SQL by lifecycle"): a revision's own SQL is
``sql/revisions/<revision_id>/NN_*.sql`` (upgrade) and ``.../downgrade/NN_*.sql``,
run in file-name order by :func:`run_revision_sql`; replaceable objects are
``sql/objects/<name>/v<N>.sql``, installed by :func:`install_object` or listed in an
``NN_*.objects`` manifest inside the revision's folder.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from alembic import op
from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.resources import read_sql, sql_dir
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


def read_object_manifest(relative_path: str) -> list[tuple[str, int]]:
    """The ``(object name, version)`` pairs of the manifest ``sql/<relative_path>``, in file order.

    One object per line, ``<name> <version>`` (e.g. ``backfill_step 2``); blank lines and
    ``#`` comments are ignored. The order is the install order (dependencies first).
    """
    pairs: list[tuple[str, int]] = []
    for number, line in enumerate(read_sql(relative_path).splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2 or not words[1].isdigit() or int(words[1]) < 1:
            raise ConfigurationError(
                f"sql/{relative_path} line {number}: {line.strip()!r} is not '<object> <version>'; "
                "write e.g. 'backfill_step 2'"
            )
        pairs.append((words[0], int(words[1])))
    return pairs


def install_objects(relative_path: str) -> None:
    """Install every object version listed in the manifest ``sql/<relative_path>``, in its order."""
    for name, version in read_object_manifest(relative_path):
        install_object(name, version)


def revision_sql_files(revision_id: str, step: str = "upgrade") -> list[str]:
    """The files :func:`run_revision_sql` runs, relative to ``sql/``, in the order it runs them.

    ``step="upgrade"``: the ``*.sql`` and ``*.objects`` files directly in
    ``sql/revisions/<revision_id>/``; ``step="downgrade"``: those in its ``downgrade/`` folder.
    Sorted by file name (hence the ``NN_`` prefixes); other subfolders (e.g. ``concurrently/``,
    run outside the transaction) are the revision's to run by name.
    """
    if step not in ("upgrade", "downgrade"):
        raise ValueError(f"step must be 'upgrade' or 'downgrade', not {step!r}")
    folder = f"revisions/{revision_id}" + ("/downgrade" if step == "downgrade" else "")
    directory = sql_dir() / folder
    if not directory.is_dir():
        raise ConfigurationError(f"SQL folder {directory} is missing; reinstall the package")
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and p.suffix in (".sql", ".objects"))
    return [f"{folder}/{name}" for name in names]


def run_revision_sql(revision_id: str, step: str = "upgrade") -> None:
    """Run (or print) a revision's own SQL: every file of :func:`revision_sql_files`, in file-name order.

    A ``.sql`` file runs as one script; a ``.objects`` manifest installs each listed object
    version with :func:`install_object`, in the manifest's order.
    """
    for path in revision_sql_files(revision_id, step):
        if path.endswith(".objects"):
            install_objects(path)
        else:
            run_sql_file(path)


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
