"""``sql/`` by lifecycle (sql/README.md): revision folders, object manifests, one placeholder style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice_migration.infra.resources import alembic_dir, sql_dir
from voice_migration.migration.revision_ops import read_object_manifest

SQL = sql_dir()
RUNTIME_FILES = sorted(p for p in SQL.rglob("*.sql") if p.relative_to(SQL).parts[0] not in ("revisions", "objects"))
DBA_CHECK_DIRS = ("validation", "preflight", "fix")


def code_only(text: str) -> str:
    """``text`` without ``--`` comments and the contents of '...' literals (format('%s') is no placeholder)."""
    text = re.sub(r"--[^\n]*", "", text)
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def test_every_revision_folder_belongs_to_a_revision() -> None:
    folders = {p.name for p in (SQL / "revisions").iterdir() if p.is_dir()}
    assert folders, "sql/revisions/ holds the revisions' own SQL"
    locations = ("versions", "sunset", "citus")
    revision_ids = {p.stem for location in locations for p in (alembic_dir() / location).glob("*.py")}
    assert sorted(folders - revision_ids) == []  # a revision file is named after its revision id


@pytest.mark.parametrize(
    "manifest", sorted((SQL / "revisions").rglob("*.objects")), ids=lambda p: str(p.relative_to(SQL))
)
def test_every_manifest_line_names_an_existing_object_version(manifest: Path) -> None:
    listed = read_object_manifest(str(manifest.relative_to(SQL)))
    assert listed, "a manifest lists at least one object"
    missing = [f"{name} v{n}" for name, n in listed if not (SQL / "objects" / name / f"v{n}.sql").is_file()]
    assert missing == []


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=lambda p: str(p.relative_to(SQL)))
def test_runtime_sql_uses_one_placeholder_style(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    code = code_only(text)
    assert not re.search(r"%s|%\(\w+\)[^s]", code), "values are %(name)s"
    bare = code.replace("::", "  ").replace(":=", "  ")
    quoted = re.sub(r"--[^\n]*", "", text)
    assert not re.search(r"(?<![:\w]):[A-Za-z_]\w*", bare) and not re.search(r":(['\"])[A-Za-z_]\w*\1", quoted), (
        "no psql :variables or :name binds; values are %(name)s"
    )
    area = path.relative_to(SQL).parts[0]
    if area in DBA_CHECK_DIRS:
        # DBA checks run unchanged with psql -f: no placeholders at all (scope: voice_migration.tenant_ids).
        assert "%(" not in code and not re.search(r"\{\w+\}", code), "a DBA check takes no placeholders"
    elif area not in ("backup", "dry_run"):
        assert not re.search(r"\{\w+\}", code), (
            "{identifier} fields only in sql/backup/ and sql/dry_run/ (psycopg.sql composition)"
        )
