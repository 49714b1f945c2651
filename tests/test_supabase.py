"""The README's Supabase section, where it can be tested without Supabase (issue #17).

* Its table of statements that must run outside a transaction is what ``alembic upgrade --sql`` prints.
* Its grants, run against Supabase-like roles, let ``service_role`` call ``voice_agent_v2_enabled`` as
  PostgREST does (``SET ROLE``, named argument) and get the owner's answer, and shut ``anon`` and
  ``authenticated`` out even after Supabase's default grants on new functions and tables.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import add_tenants
from voice_migration.migration import revisions

README = Path(__file__).resolve().parents[1] / "README.md"
SUPABASE_ROLES = ("anon", "authenticated", "service_role")
Conn = psycopg.Connection[tuple[object, ...]]


def after_marker(marker: str) -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()
    return lines[lines.index(f"<!-- supabase: {marker} -->") + 1 :]


def outside_statements(revision: str, previous: str) -> list[str]:
    """The statements the offline SQL of one revision prints between a COMMIT and the next BEGIN."""
    text = revisions.offline_sql(revision, start=previous, sunset=revision == "0005_v1_sunset")
    statements: list[str] = []
    inside, current = False, ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("--"):
            continue
        if line in ("BEGIN;", "COMMIT;"):
            inside = line == "BEGIN;"
            continue
        if not inside:
            current = f"{current} {line.strip()}".strip()
            if current.endswith(";"):
                statements.append(current)
                current = ""
    return statements


def test_the_outside_a_transaction_table_is_what_the_offline_sql_prints() -> None:
    documented: dict[str, list[str]] = {}
    for line in after_marker("outside a transaction")[2:]:
        if not line.startswith("|"):
            break
        revision, statements = (cell.strip() for cell in line.strip().strip("|").split("|"))
        documented[revision.strip("`")] = re.findall(r"`([^`]+)`", statements)
    chain = revisions.known_revisions(sunset=True)
    found: dict[str, list[str]] = {}
    for previous, revision in itertools.pairwise(chain):
        outside = outside_statements(revision, previous)
        if outside:
            found[revision] = outside
    assert sorted(found) == sorted(documented), "README 'Supabase': the revisions with statements outside a transaction"
    for revision, statements in found.items():
        assert len(statements) == len(documented[revision]), revision
        for printed, written in zip(statements, documented[revision], strict=True):
            assert printed.startswith(written), (
                f"{revision}: README says {written!r}, the offline SQL prints {printed!r}"
            )


@pytest.fixture()
def supabase_like(head_database_url: str) -> Iterator[Conn]:
    """A head database with Supabase's API roles and its default grants on the flag objects."""
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        created = []
        for role in SUPABASE_ROLES:
            if conn.execute("SELECT FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
                created.append(role)
        conn.execute("ALTER ROLE service_role BYPASSRLS")
        # What Supabase's default privileges give every new function and table in public.
        conn.execute(
            "GRANT EXECUTE ON FUNCTION voice_agent_v2_enabled(text), voice_agent_v2_flag_snapshot() "
            "TO anon, authenticated, service_role"
        )
        conn.execute(
            "GRANT SELECT ON voice_agent_v2_flags, voice_agent_v2_tenant_overrides TO anon, authenticated, service_role"
        )
        add_tenants(conn, 20)
        conn.execute("UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 50")
        yield conn
        for role in SUPABASE_ROLES:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        for role in created:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def readme_grants() -> str:
    lines = after_marker("grants")
    assert lines[0] == "```sql"
    return "\n".join(lines[1 : lines.index("```")])


def as_postgrest(conn: Conn, role: str, tenant: str) -> object:
    """How PostgREST runs ``rpc('voice_agent_v2_enabled', { tenant_id })``: a role switch, a named argument."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        row = conn.execute("SELECT public.voice_agent_v2_enabled(tenant_id := %s)", (tenant,)).fetchone()
    assert row is not None
    return row[0]


def test_the_readme_grants_serve_the_flag_to_service_role_only(supabase_like: Conn) -> None:
    conn = supabase_like
    conn.execute(readme_grants().encode())
    answers = {
        str(t): bool(e)
        for t, e in conn.execute("SELECT id, voice_agent_v2_enabled(id) FROM tenants ORDER BY id").fetchall()
    }
    assert any(answers.values()) and not all(answers.values())  # 50 %: some tenants in v2, some not
    for tenant, owner_answer in answers.items():
        assert as_postgrest(conn, "service_role", tenant) is owner_answer
    for role in ("anon", "authenticated"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_postgrest(conn, role, next(iter(answers)))
    with conn.transaction():
        conn.execute("SET LOCAL ROLE service_role")
        snapshot = conn.execute("SELECT public.voice_agent_v2_flag_snapshot()").fetchone()
    assert snapshot is not None and isinstance(snapshot[0], dict) and snapshot[0]["percentage"] == 50
