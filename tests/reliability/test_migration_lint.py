"""squawk, the PostgreSQL migration linter, finds nothing in the offline SQL of ``alembic upgrade head``.

The same script runs in ``.ci/run``; running it here too makes a new finding fail the test suite
where the revision's author sees it. Every finding is fixed or explained beside its statement.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    shutil.which("squawk", path=str(Path(sys.executable).parent)) is None,
    reason="squawk-cli is not installed (pip install -e '.[test]')",
)
def test_the_offline_migration_sql_passes_squawk() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "lint-migrations")], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout
