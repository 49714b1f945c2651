"""Where the shipped SQL files and Alembic scripts live, for installed and source checkouts alike.

A wheel carries them in ``voice_migration/_data/`` (see ``pyproject.toml``); a
source checkout or editable install uses the top-level ``sql/``, ``alembic/``
and ``alembic.ini`` beside the package.
"""

from __future__ import annotations

from pathlib import Path

from voice_migration.infra.errors import ConfigurationError

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # voice_migration/, this file is in infra/


def data_root() -> Path:
    """The directory holding ``sql/``, ``alembic/`` and ``alembic.ini``."""
    shipped = _PACKAGE_DIR / "_data"
    if (shipped / "sql").is_dir():
        return shipped
    source = _PACKAGE_DIR.parent
    if (source / "sql").is_dir() and (source / "alembic").is_dir():
        return source
    raise ConfigurationError(
        f"the SQL files and Alembic scripts are missing next to {_PACKAGE_DIR}; "
        "reinstall the package (pip install voice-migration)"
    )


def sql_dir() -> Path:
    """The ``sql/`` directory."""
    return data_root() / "sql"


def alembic_dir() -> Path:
    """The Alembic script directory (``alembic/``)."""
    return data_root() / "alembic"


def alembic_ini() -> Path:
    """The project's ``alembic.ini``."""
    return data_root() / "alembic.ini"


def read_sql(relative_path: str) -> str:
    """Return the text of ``sql/<relative_path>``."""
    path = sql_dir() / relative_path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigurationError(f"SQL file {path} is missing; reinstall the package") from exc
