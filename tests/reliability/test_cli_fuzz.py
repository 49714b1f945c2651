"""Fuzzing the CLI: hostile tenant ids, backup ids, percentages, batch sizes, operators and URLs.

Whatever the input: exit 0, 1 or 2; on failure exactly one error line; never a traceback; never the
password of a fuzzed URL (libpq quotes the bad part of a URL in its errors: it is masked); and no
input ever becomes part of an SQL text (every statement the CLI sends is recorded, and no hostile
input may appear in one: values travel as parameters, identifiers only after validation).
The CLI runs in this process (``helpers.invoke``) against a real database; examples are derived
from a fixed seed, so a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import conninfo, sql

from tests.helpers import error_lines, invoke, scalar

pytestmark = pytest.mark.reliability

SQL_PAYLOADS = (
    "'; DROP TABLE tenants; --",
    "tenant_000001'); DELETE FROM voice_agent_configs; --",
    '" OR 1=1 --',
    "$$; DROP SCHEMA voice_migration CASCADE; $$",
    "x' UNION SELECT password FROM pg_shadow --",
    "'; SELECT pg_sleep(30); --",
    "%s%s%(id)s{}{0}",
    "backup_20240101_000000; DROP TABLE voice_agent_calls",
    "backup_20240101_000000'--",
    "tenant_000001,'; TRUNCATE tenants; --",
    "\u202etenant_000001",
    "te\u0301nant",
    "../../../../etc/passwd",
    "-1",
    "1e9",
    "0x10",
    " ",
    ",,,",
)
# Command-line arguments cannot carry NUL bytes (execve); everything else is fair game.
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1,
               max_size=40)  # fmt: skip
HOSTILE = st.one_of(st.sampled_from(SQL_PAYLOADS), TEXT)
PASSWORD_MARK = "Pw7q"
NUMBERS = st.one_of(st.integers(min_value=-(10**12), max_value=10**12).map(str), HOSTILE)


@st.composite
def urls(draw: st.DrawFn, port: int, dbname: str) -> str:
    scheme = draw(st.sampled_from(["postgresql", "postgres", "postgresql+psycopg", "mysql", "http", "", "pg"]))
    user = draw(st.one_of(st.just("postgres"), HOSTILE.map(lambda t: t.replace("/", "").replace("@", ""))))
    # Every password starts with PASSWORD_MARK: whatever else it holds, the mark must never be shown.
    password = draw(st.one_of(st.just(""), HOSTILE.map(lambda t: ":" + PASSWORD_MARK + t.replace("/", ""))))
    # Only hosts that fail (or answer) at once: no name that would need a DNS lookup.
    host = draw(st.sampled_from(["127.0.0.1", "localhost", "", "[::1]", "%2Ftmp%2Fnowhere"]))
    chosen_port = draw(st.sampled_from([str(port), "1", "0", "99999", "-1", "abc", ""]))
    database = draw(st.one_of(st.just(dbname), HOSTILE.map(lambda t: t.replace("/", "").replace("?", ""))))
    query = draw(st.sampled_from(["", "?sslmode=disable", "?connect_timeout=1", "?options=-c%20x%3D1", "?" + "%"]))
    return f"{scheme}://{user}{password}@{host}:{chosen_port}/{database}{query}"


def commands(port: int, dbname: str) -> st.SearchStrategy[list[str]]:
    """One CLI invocation with hostile values where an operator types values."""
    operator = st.one_of(st.just("ops"), HOSTILE)
    batch_sizes = NUMBERS.filter(lambda text: not (text.strip().isdigit() and 1 <= int(text) <= 100_000))
    return st.one_of(
        st.tuples(st.just(["migrate", "--dry-run", "--tenant-ids"]), HOSTILE).map(lambda t: [*t[0], t[1]]),
        st.tuples(st.just(["migrate", "--dry-run", "--batch-size"]), batch_sizes).map(lambda t: [*t[0], t[1]]),
        st.tuples(st.one_of(HOSTILE, st.from_regex(r"backup_[0-9]{8}_[0-9]{6}", fullmatch=True))).map(
            lambda t: ["rollback", "--level", "data", "--backup-id", t[0], "--yes"]
        ),
        st.tuples(HOSTILE, operator).map(
            lambda t: ["rollback", "--level", "tenant", "--tenant-id", t[0], "--by", t[1]]
        ),
        st.tuples(NUMBERS).map(lambda t: ["rollback", "--level", "partial", "--target-percentage", t[0], "--by", "x"]),
        st.tuples(NUMBERS, operator).map(lambda t: ["rollout", "set-percentage", t[0], "--by", t[1]]),
        st.tuples(HOSTILE, operator).map(lambda t: ["rollout", "enable-tenant", t[0], "--by", t[1]]),
        st.tuples(HOSTILE, operator).map(lambda t: ["rollout", "clear-tenant", t[0], "--by", t[1]]),
        st.tuples(HOSTILE, HOSTILE).map(lambda t: ["validate", "--tenant-ids", t[0], "--check", t[1]]),
        st.tuples(HOSTILE).map(lambda t: ["backups", "create", "--tenant-ids", t[0]]),
        st.tuples(urls(port, dbname)).map(lambda t: ["rollout", "status", "--database-url", t[0]]),
        st.tuples(urls(port, dbname)).map(lambda t: ["migrate", "--dry-run", "--database-url", t[0]]),
    )


@pytest.fixture()
def recorded_sql(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL text psycopg sends from this process while the test runs."""
    texts: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self: psycopg.Cursor[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
        if isinstance(query, sql.Composable):
            texts.append(query.as_string(self))
        else:
            texts.append(query.decode() if isinstance(query, bytes) else str(query))
        return original(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    yield texts


def test_hostile_cli_input_exits_cleanly_and_never_becomes_sql(staged_url: str, recorded_sql: list[str]) -> None:
    params = conninfo.conninfo_to_dict(staged_url)
    tried: list[list[str]] = []
    rows_before = scalar(staged_url, "SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM voice_agent_calls)")

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
    @given(commands(int(str(params["port"])), str(params["dbname"])))
    def run(args: list[str]) -> None:
        tried.append(args)
        result = invoke(args, url=staged_url, env={"VOICE_MIGRATION_CONNECT_TIMEOUT": "1"})
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Traceback" not in result.output, (args, result.output)
        assert PASSWORD_MARK not in result.output, (args, result.output)
        if result.exit_code != 0:
            assert len(error_lines(result.stderr)) == 1, (args, result.stderr)

    run()

    assert len(tried) == 150
    hostile = {arg for args in tried for arg in args if len(arg) >= 4 and any(c in arg for c in "'\";$%")}
    assert hostile, "the payloads were tried"
    leaks = {arg for arg in hostile for text in recorded_sql if arg in text}
    assert leaks == set(), f"input found inside SQL text: {sorted(leaks)[:5]}"
    assert rows_before == scalar(
        staged_url, "SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM voice_agent_calls)"
    )
