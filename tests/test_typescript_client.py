"""The TypeScript flag client (clients/typescript) gives the same answers as SQL and Python (issue #18).

This file drives node's built-in test runner against the suite's own throwaway PostgreSQL:

* it writes 10,000 deterministic tenant ids (empty, emoji, combining marks, RTL, BOM, ...) with their
  Python and SQL buckets to a JSON file, and checks here that Python and SQL agree;
* it seeds a database at head with tenants and hands its URL to ``node --test``, whose tests clone it
  (``CREATE DATABASE ... TEMPLATE``) and check the TypeScript bucket against both answers, and the cached
  decision against ``voice_agent_v2_enabled`` for every tenant while flags, overrides and holds change.

CI has node ≥ 20, so a missing node fails this test; ``VOICE_MIGRATION_SKIP_NODE=1`` skips it on a
machine without node on purpose. A node test that skips (for want of the database) fails it too.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import psycopg.conninfo
import pytest

from tests.conftest import TEMPLATE_HEAD
from tests.helpers import Server, fresh_database
from voice_migration.rollout.cache import bucket

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clients" / "typescript"
PARITY_COUNT = 10_000
SEEDED_TENANTS = 2_000

# Fixed ids first: every family the issue names, then strings drawn from the same families.
SPECIAL_IDS = [
    "",
    "tenant-1",
    "Tenant-1",
    " tenant-1 ",
    "🎙️",
    "tenant-🎙️-v2",
    "👩‍👩‍👧‍👦",  # ZWJ sequence
    "🏳️‍🌈",
    "e\u0301",  # e + combining acute
    "é",  # precomposed: a different string, a different bucket
    "a\u0300\u0301\u0302\u0303\u0304",
    "שלום",  # Hebrew, RTL
    "مرحبا-tenant",  # Arabic, RTL
    "\u202etenant-1",  # RTL override
    "\u200ftenant\u200e",
    "\ufeff",  # BOM alone
    "\ufefftenant-1",  # BOM-prefixed
    "tenant-1\ufeff",
    "\U0001f600" * 50,
    "x" * 1000,
    "'; DROP TABLE tenants; --",
    "\x01\x02\x1f\x7f",
    "\t\n\r",
    "中文租户",
    "テナント",
    "\U00010348",  # Gothic hwair, 4 UTF-8 bytes
    "\uffff",
    "\U0010ffff",
]
RANGES = [
    (0x20, 0x7E),
    (0x01, 0x1F),
    (0xA0, 0xFF),
    (0x300, 0x36F),  # combining marks
    (0x590, 0x5FF),  # Hebrew
    (0x600, 0x6FF),  # Arabic
    (0x200B, 0x200F),  # zero-width, LRM/RLM
    (0x202A, 0x202E),  # bidi embeddings/overrides
    (0xFEFF, 0xFEFF),  # BOM
    (0x4E00, 0x9FFF),  # CJK
    (0x1F300, 0x1FAFF),  # emoji
    (0xFE00, 0xFE0F),  # variation selectors
    (0x10000, 0x10FFFF),  # any astral code point
]


def parity_ids() -> list[str]:
    """10,000 distinct tenant ids, the same on every run (no NUL, no surrogates: PostgreSQL text has neither)."""
    rng = random.Random(18)
    ids = list(dict.fromkeys(SPECIAL_IDS))
    seen = set(ids)
    while len(ids) < PARITY_COUNT:
        chars = []
        for _ in range(rng.randint(1, 40)):
            low, high = rng.choice(RANGES)
            code = rng.randint(low, high)
            if 0xD800 <= code <= 0xDFFF:
                continue
            chars.append(chr(code))
        text = "".join(chars)
        if text not in seen:
            seen.add(text)
            ids.append(text)
    return ids


def node_or_skip() -> str:
    """The node binary; skipped only on purpose (VOICE_MIGRATION_SKIP_NODE=1), otherwise a missing node fails."""
    if os.environ.get("VOICE_MIGRATION_SKIP_NODE") == "1":
        pytest.skip("VOICE_MIGRATION_SKIP_NODE=1: the TypeScript client's tests are not run")
    node = shutil.which("node")
    assert node is not None, "node ≥ 20 is required for clients/typescript (set VOICE_MIGRATION_SKIP_NODE=1 to skip)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 20, f"node {version} is too old; clients/typescript needs ≥ 20"
    return node


def npm(*args: str) -> subprocess.CompletedProcess[str]:
    """Run npm in the package (fails the test with npm's output on error)."""
    npm_bin = shutil.which("npm")
    assert npm_bin is not None, "npm is required for clients/typescript"
    result = subprocess.run([npm_bin, *args], cwd=PACKAGE, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"npm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built_package() -> Path:
    """The package built to dist/ (``npm ci`` first when node_modules is missing)."""
    node_or_skip()
    if not (PACKAGE / "node_modules" / ".package-lock.json").exists():
        npm("ci", "--no-audit", "--no-fund")
    npm("run", "build")
    return PACKAGE


def node_url_pattern(server: Server) -> str:
    """A URL node-postgres understands for any database of ``server``, with ``__DB__`` for the name."""
    password = f":{quote(server.password, safe='')}" if server.password else ""
    if server.host.startswith("/"):  # a unix socket directory
        return (
            f"postgresql://{quote(server.user, safe='')}{password}@/__DB__?host={quote(server.host)}&port={server.port}"
        )
    return f"postgresql://{quote(server.user, safe='')}{password}@{server.host}:{server.port}/__DB__"


@pytest.fixture()
def seeded_template(pg_server: Server, _templates: None) -> Iterator[str]:
    """A database at head with 2,000 plain tenants and 200 unicode ones; yields its name (node clones it per test)."""
    with fresh_database(pg_server, TEMPLATE_HEAD) as url:
        unicode_ids = [t for t in parity_ids()[1:201]]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO tenants (id, name, created_at) SELECT 'tenant-' || g, 'Tenant ' || g, now() "
                "FROM generate_series(1, %s) AS g",
                (SEEDED_TENANTS,),
            )
            conn.execute(
                "INSERT INTO tenants (id, name, created_at) SELECT t, 'unicode', now() FROM unnest(%s::text[]) AS t "
                "ON CONFLICT DO NOTHING",
                (unicode_ids,),
            )
        yield str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])


def test_python_and_sql_buckets_agree_on_the_parity_strings(head_database_url: str) -> None:
    ids = parity_ids()
    assert len(ids) == len(set(ids)) == PARITY_COUNT
    with psycopg.connect(head_database_url) as conn:
        rows = conn.execute(
            "SELECT voice_agent_v2_bucket(s) FROM unnest(%s::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n", (ids,)
        ).fetchall()
    assert [row[0] for row in rows] == [bucket(t) for t in ids]


def test_the_typescript_client_passes_its_node_tests_against_this_postgresql(
    built_package: Path, seeded_template: str, head_database_url: str, pg_server: Server, tmp_path: Path
) -> None:
    node = node_or_skip()
    ids = parity_ids()
    with psycopg.connect(head_database_url) as conn:
        sql_buckets = [
            row[0]
            for row in conn.execute(
                "SELECT voice_agent_v2_bucket(s) FROM unnest(%s::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n",
                (ids,),
            ).fetchall()
        ]
    parity_file = tmp_path / "parity.json"
    parity_file.write_text(
        json.dumps({"ids": ids, "python": [bucket(t) for t in ids], "sql": sql_buckets}, ensure_ascii=False),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "VOICE_AGENT_V2_TEST_URL_PATTERN": node_url_pattern(pg_server),
        "VOICE_AGENT_V2_TEST_TEMPLATE": seeded_template,
        "VOICE_AGENT_V2_PARITY_FILE": str(parity_file),
        "VOICE_AGENT_V2_SNAPSHOT_FUNCTION_SQL": str(ROOT / "sql/objects/voice_agent_v2_flag_snapshot/v1.sql"),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", *sorted(str(p) for p in (PACKAGE / "test").glob("*.test.mjs"))],
        cwd=PACKAGE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    print("\n".join(line.strip() for line in output.splitlines() if line.strip().startswith("# commit")))
    counts = {
        key: int(value) for key, value in re.findall(r"^# (pass|fail|skipped|todo|cancelled) (\d+)$", output, re.M)
    }
    assert counts.get("fail") == 0 and counts.get("cancelled", 0) == 0, output[-20000:]
    assert counts.get("skipped", 0) == 0 and counts.get("todo", 0) == 0, "a node test skipped:\n" + output[-20000:]
    assert counts.get("pass", 0) >= 15, output[-20000:]


def sql_statement(text: str) -> str:
    """A runtime SQL file's statement: comments dropped, whitespace collapsed, %(name)s → $n in order."""
    body = "\n".join(re.sub(r"--.*$", "", line) for line in text.splitlines())
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    body = re.sub(r"%\((\w+)\)s", placeholder, body)
    return " ".join(body.split())


def test_the_embedded_sql_is_the_repository_sql() -> None:
    source = (PACKAGE / "src" / "sql.ts").read_text(encoding="utf-8")
    embedded = {
        name: " ".join(value.split())
        for name, value in re.findall(r'export const (\w+) =\s*[`"](.*?)[`"];', source, re.S)
    }
    files = {
        "SNAPSHOT": "snapshot.sql",
        "SNAPSHOT_HELD": "snapshot_held.sql",
        "STATUS": "status.sql",
        "COHORTS": "cohorts.sql",
        "IS_ENABLED": "is_enabled.sql",
    }
    compared = 0
    for name, filename in files.items():
        path = ROOT / "sql" / "flags" / filename
        if not path.exists():  # snapshot_held.sql arrives with revision 0008_quarantine_hold (#15)
            continue
        assert embedded[name] == sql_statement(path.read_text(encoding="utf-8")), f"{name} differs from {path}"
        compared += 1
    assert compared >= 4
