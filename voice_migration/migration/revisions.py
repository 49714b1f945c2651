"""Alembic from Python: build the project's Alembic config, read and move the revision.

The CLI and the tests use these instead of shelling out to ``alembic``; they run
the same ``alembic/env.py`` and revisions as ``alembic upgrade head`` does.
"""

from __future__ import annotations

import io
from typing import TextIO

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from voice_migration.infra.resources import alembic_dir, alembic_ini
from voice_migration.infra.settings import Settings

BASELINE_REVISION = "0001_v1_baseline"
SUNSET_SECTION = "sunset"


def alembic_config(
    database_url: str | None = None,
    *,
    sunset: bool = False,
    stdout: TextIO | None = None,
    output_buffer: TextIO | None = None,
) -> Config:
    """An Alembic ``Config`` for this project; ``sunset=True`` adds the v1-sunset revision.

    ``stdout`` receives Alembic's messages, ``output_buffer`` the offline SQL.
    """
    config = Config(
        str(alembic_ini()),
        ini_section=SUNSET_SECTION if sunset else "alembic",
        stdout=stdout if stdout is not None else io.StringIO(),
        output_buffer=output_buffer,
    )
    scripts = alembic_dir()
    config.set_main_option("script_location", str(scripts))
    locations = [scripts / "versions"] + ([scripts / "sunset"] if sunset else [])
    config.set_main_option("path_separator", "space")
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def head_revision(*, sunset: bool = False) -> str:
    """The single head revision of the chain."""
    heads = ScriptDirectory.from_config(alembic_config(sunset=sunset)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one Alembic head, found {heads}")
    return heads[0]


def known_revisions(*, sunset: bool = True) -> list[str]:
    """Every revision id of the project, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(sunset=sunset))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def current_revision(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    """The database's Alembic revision, or None when it has no ``alembic_version`` table or row."""
    row = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(version[0]) if version else None


def upgrade(settings: Settings, target: str = "head", *, sunset: bool = False) -> None:
    """Apply revisions up to ``target`` (``alembic upgrade``)."""
    command.upgrade(alembic_config(settings.database_url, sunset=sunset), target)


def downgrade(settings: Settings, target: str, *, sunset: bool = False) -> str:
    """Revert revisions down to ``target`` (``alembic downgrade``); returns what the revisions printed."""
    out = io.StringIO()
    command.downgrade(alembic_config(settings.database_url, sunset=sunset, stdout=out), target)
    return out.getvalue()


def offline_sql(target: str = "head", *, start: str | None = None, sunset: bool = False) -> str:
    """The SQL ``alembic upgrade [start:]target --sql`` prints; needs no database."""
    out = io.StringIO()
    rng = f"{start}:{target}" if start else target
    command.upgrade(alembic_config(sunset=sunset, output_buffer=out), rng, sql=True)
    return out.getvalue()
