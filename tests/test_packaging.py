"""`pip install .` (not only -e) gives a CLI that finds its SQL files and Alembic scripts."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"building the wheel failed: {result.stderr[-2000:]}")
    (built,) = out.glob("voice_migration-*.whl")
    return built


def test_the_wheel_ships_the_sql_files_and_alembic_scripts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_sql = {n for n in names if n.startswith("voice_migration/_data/sql/") and n.endswith(".sql")}
    source_sql = {f"voice_migration/_data/sql/{p.relative_to(ROOT / 'sql')}" for p in (ROOT / "sql").rglob("*.sql")}
    assert source_sql <= shipped_sql
    assert "voice_migration/_data/alembic/env.py" in names
    assert "voice_migration/_data/alembic.ini" in names
    versions = {p.name for p in (ROOT / "alembic" / "versions").glob("*.py")}
    assert {f"voice_migration/_data/alembic/versions/{v}" for v in versions} <= names


def test_an_installed_wheel_finds_its_files_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    probe = (
        "import voice_migration, voice_migration.infra.resources as r, voice_migration.migration.revisions as v;"
        "print(voice_migration.__file__); print(r.data_root());"
        "print('CREATE TABLE tenants' in v.offline_sql('head'))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    module_file, data_root, has_sql = result.stdout.split()
    assert module_file.startswith(str(target))
    assert data_root == str(target / "voice_migration" / "_data")
    assert has_sql == "True"
    cli = subprocess.run(
        [sys.executable, "-m", "voice_migration", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=120,
    )
    assert cli.returncode == 0 and "seed" in cli.stdout
