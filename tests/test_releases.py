"""Releases are immutable, objects are replaceable (issue #13).

* ``tests/releases/<version>.sql`` is a release's frozen offline SQL (``alembic upgrade head --sql`` at the
  release's commit; 0.1 = 121c8df). Today's tree must emit the same SQL for the released revisions, apart
  from comments and whitespace, and a database built from the frozen SQL and then upgraded to head must
  equal a fresh install at head.
* ``tests/releases/pre-release/231b063.sql`` is the offline SQL of the tree at 231b063, a day before 0.1:
  a database built by it had stale functions; upgraded to head it must equal a fresh install too.
* ``sql/objects/<name>/v<N>.sql``: the highest version of every object is what head has installed, and
  every function, procedure, trigger and view at head is such an object.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEMPLATE_HEAD, settings_for
from tests.helpers import Server, fresh_database
from voice_migration.infra.embedded import find_server_bindir
from voice_migration.infra.resources import sql_dir
from voice_migration.migration import revisions
from voice_migration.migration.revision_ops import read_object_manifest, revision_sql_files

Conn = psycopg.Connection[tuple[object, ...]]

RELEASES_DIR = Path(__file__).resolve().parent / "releases"
RELEASE_FILES = sorted(RELEASES_DIR.glob("*.sql"))
PRE_RELEASE_231B063 = RELEASES_DIR / "pre-release" / "231b063.sql"
OBJECTS_DIR = sql_dir() / "objects"
REAPPLY_REVISION = "0006_reapply_0_1_objects"
SCHEMAS = ("public", "voice_migration")


# --- normalised SQL text -------------------------------------------------------------------------------


def normalise_sql(text: str) -> str:
    """``text`` without ``--`` comments (outside quotes) and with every run of whitespace made one space."""
    out: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        c = text[i]
        if quote is None and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "'\"":
            quote = None if quote == c else (c if quote is None else quote)
        out.append(c)
        i += 1
    return " ".join("".join(out).split())


def last_revision_of(frozen_sql: str) -> str:
    """The revision a frozen ``upgrade --sql`` file ends at (its last ``-- Running upgrade A -> B``)."""
    targets = re.findall(r"^-- Running upgrade \S* -> (\S+)$", frozen_sql, flags=re.MULTILINE)
    assert targets, "a frozen release file names the revisions it runs"
    return targets[-1]


def first_difference(a: str, b: str, context: int = 160) -> str:
    """Where two normalised texts part, with some context, for a readable failure."""
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    lo, hi = max(0, at - context), at + context
    return f"frozen: ...{a[lo:hi]}...\n today: ...{b[lo:hi]}..."


# --- a database's replaceable objects and shape, as comparable text -------------------------------------

SNAPSHOT_QUERIES: dict[str, str] = {
    "schema": """
        SELECT n.nspname, coalesce(n.nspacl::text, '') FROM pg_namespace AS n WHERE n.nspname = ANY(%(schemas)s)""",
    "function": """
        SELECT p.oid::regprocedure::text,
               pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '')
               || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
        FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY(%(schemas)s) AND p.prokind IN ('f', 'p', 'w')""",
    "trigger": """
        SELECT t.tgrelid::regclass::text || '.' || t.tgname,
               pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
        FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s) AND NOT t.tgisinternal""",
    "view": """
        SELECT c.oid::regclass::text, pg_get_viewdef(c.oid)
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('v', 'm')""",
    "relation": """
        SELECT c.oid::regclass::text,
               c.relkind::text || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity
               || ' acl=' || coalesce(c.relacl::text, '')
               || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')""",
    "column": """
        SELECT a.attrelid::regclass::text || '.' || a.attname,
               a.attnum || ' ' || format_type(a.atttypid, a.atttypmod) || ' not null=' || a.attnotnull
               || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' identity=' || a.attidentity::text
               || ' generated=' || a.attgenerated::text || ' storage=' || a.attstorage::text
        FROM pg_attribute AS a
        JOIN pg_class AS c ON c.oid = a.attrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": """
        SELECT coalesce(nullif(co.conrelid, 0)::regclass::text, co.contypid::regtype::text) || '.' || co.conname,
               pg_get_constraintdef(co.oid) || ' validated=' || co.convalidated
        FROM pg_constraint AS co JOIN pg_namespace AS n ON n.oid = co.connamespace
        WHERE n.nspname = ANY(%(schemas)s)""",
    "index": """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid
        FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s)""",
    "policy": """
        SELECT p.schemaname || '.' || p.tablename || '.' || p.policyname,
               p.permissive || ' ' || p.cmd || ' roles=' || p.roles::text
               || ' using=' || coalesce(p.qual, '') || ' check=' || coalesce(p.with_check, '')
        FROM pg_policies AS p WHERE p.schemaname = ANY(%(schemas)s)""",
}


def table_rows(conn: Conn) -> dict[str, str]:
    """Per table: md5 and count of its rows as jsonb without timestamp columns (their values say when, not what)."""
    tables = conn.execute(
        "SELECT n.nspname, c.relname, coalesce(array_agg(a.attname::text ORDER BY a.attnum)"
        "   FILTER (WHERE a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype)), '{}') "
        "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p') GROUP BY n.nspname, c.relname",
        {"schemas": list(SCHEMAS)},
    ).fetchall()
    result: dict[str, str] = {}
    for schema, table, timestamps in tables:
        query = sql.SQL(
            "SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '-') "
            "FROM (SELECT to_jsonb(t) - %(drop)s::text[] AS r FROM {}.{} AS t) AS rows"
        ).format(sql.Identifier(str(schema)), sql.Identifier(str(table)))
        row = conn.execute(query, {"drop": list(timestamps)}).fetchone()  # type: ignore[call-overload]
        assert row is not None
        result[f"rows {schema}.{table}"] = str(row[0])
    return result


def snapshot(conn: Conn) -> dict[str, str]:
    """Every comparable fact of the database: ``'<kind> <name>' -> definition``."""
    facts: dict[str, str] = {}
    for kind, query in SNAPSHOT_QUERIES.items():
        for name, definition in conn.execute(query, {"schemas": list(SCHEMAS)}).fetchall():  # type: ignore[call-overload]
            facts[f"{kind} {name}"] = str(definition)
    facts.update(table_rows(conn))
    return facts


def snapshot_of(url: str) -> dict[str, str]:
    """:func:`snapshot` of the database at ``url``."""
    with psycopg.connect(url) as conn:
        return snapshot(conn)


def differing(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """The names whose definitions differ (or exist on one side only), sorted."""
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def apply_with_psql(url: str, path: Path) -> None:
    """Run ``path`` with ``psql -v ON_ERROR_STOP=1 -f``, as a DBA applies an offline release."""
    bindir = find_server_bindir()
    psql = str(bindir / "psql") if bindir and (bindir / "psql").is_file() else shutil.which("psql")
    assert psql, "psql is needed to apply a frozen release"
    result = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def head_snapshot(pg_server: Server, _templates: None) -> dict[str, str]:
    """The snapshot of a fresh install at head (``alembic upgrade head`` on an empty database)."""
    with fresh_database(pg_server, TEMPLATE_HEAD) as url:
        return snapshot_of(url)


# --- 1. released revisions emit what the release froze ------------------------------------------------


def test_the_release_files_are_there() -> None:
    assert [p.name for p in RELEASE_FILES] >= ["0.1.sql"]
    assert last_revision_of((RELEASES_DIR / "0.1.sql").read_text(encoding="utf-8")) == "0004_v2_backfill"


@pytest.mark.parametrize("frozen", RELEASE_FILES, ids=lambda p: p.stem)
def test_todays_tree_emits_the_frozen_sql_of_every_release(frozen: Path) -> None:
    frozen_sql = frozen.read_text(encoding="utf-8")
    today = revisions.offline_sql(last_revision_of(frozen_sql))
    want, got = normalise_sql(frozen_sql), normalise_sql(today)
    assert got == want, first_difference(want, got)


def test_the_sql_comparison_ignores_comments_and_layout_but_not_code() -> None:
    assert normalise_sql("SELECT 1; -- a note\n\n  SELECT  2;") == normalise_sql("SELECT 1;\nSELECT 2; -- other")
    assert normalise_sql("SELECT '--not a comment'") != normalise_sql("SELECT ''")
    assert normalise_sql("SELECT 1") != normalise_sql("SELECT 2")


# --- 1b. upgrading from a release gives a fresh install -------------------------------------------------


@pytest.mark.parametrize("frozen", RELEASE_FILES, ids=lambda p: p.stem)
def test_a_release_upgraded_to_head_equals_a_fresh_install(
    frozen: Path, database_url: str, head_snapshot: dict[str, str]
) -> None:
    apply_with_psql(database_url, frozen)  # the frozen SQL writes alembic_version itself
    with psycopg.connect(database_url) as conn:
        assert revisions.current_revision(conn) == last_revision_of(frozen.read_text(encoding="utf-8"))
    revisions.upgrade(settings_for(database_url), "head")
    upgraded = snapshot_of(database_url)
    assert any(k.startswith("function ") for k in upgraded) and any(k.startswith("rows ") for k in upgraded)
    assert differing(upgraded, head_snapshot) == []


def test_a_database_built_before_the_release_is_repaired_by_the_upgrade_to_head(
    database_url: str, head_snapshot: dict[str, str], pg_server: Server, _templates: None
) -> None:
    # The tree of 231b063 (a day before 0.1) installed older flag-trigger functions and backfill_step,
    # and no voice_agent_v2_only_filter_grew: the four differences the issue measured.
    apply_with_psql(database_url, PRE_RELEASE_231B063)
    with fresh_database(pg_server, "template0") as release_url:
        apply_with_psql(release_url, RELEASES_DIR / "0.1.sql")
        assert differing(snapshot_of(database_url), snapshot_of(release_url)) == [
            "function voice_agent_v2_audit_change()",
            "function voice_agent_v2_only_filter_grew(voice_agent_v2_flags,voice_agent_v2_flags)",
            "function voice_agent_v2_stamp_change()",
            "function voice_migration.backfill_step(text,integer,text[])",
        ]
    revisions.upgrade(settings_for(database_url), "head")
    assert differing(snapshot_of(database_url), head_snapshot) == []


# --- 2. the v1 objects are release 0.1's definitions ----------------------------------------------------


def object_versions() -> dict[str, list[int]]:
    """Every replaceable object (a folder of sql/objects/) and its versions, ascending."""
    found: dict[str, list[int]] = {}
    for folder in sorted(p for p in OBJECTS_DIR.iterdir() if p.is_dir()):
        versions = sorted(int(m.group(1)) for f in folder.iterdir() if (m := re.fullmatch(r"v(\d+)\.sql", f.name)))
        found[folder.name] = versions
    return found


def test_every_object_has_versions_1_to_n_and_a_header() -> None:
    versions = object_versions()
    assert versions, "sql/objects/ holds the replaceable objects"
    for name, numbers in versions.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"{name}: versions {numbers} must be v1..vN"
        for number in numbers:
            head = (OBJECTS_DIR / name / f"v{number}.sql").read_text(encoding="utf-8")[:2000]
            assert "What:" in head and "Inputs:" in head and "Re-run:" in head, f"{name}/v{number}.sql header"


def test_the_reapply_revision_installs_every_release_0_1_object_at_v1_and_changes_nothing_on_a_0_1_database(
    database_url: str,
) -> None:
    (manifest,) = revision_sql_files(REAPPLY_REVISION)
    listed = read_object_manifest(manifest)
    assert {version for _, version in listed} == {1}
    assert len({name for name, _ in listed}) == len(listed), "each object once"
    apply_with_psql(database_url, RELEASES_DIR / "0.1.sql")
    release = snapshot_of(database_url)
    released_objects = {
        re.sub(r"^(function|trigger|view) (?:[\w.]+\.)?(\w+)(\(.*\))?$", r"\2", key)
        for key in release
        if key.split(" ", 1)[0] in ("function", "trigger", "view")
    }
    assert released_objects <= {name for name, _ in listed}, "every function/trigger of 0.1 is re-applied"
    revisions.upgrade(settings_for(database_url), REAPPLY_REVISION)
    reapplied = snapshot_of(database_url)
    assert differing(release, reapplied) == ["rows public.alembic_version"]  # only the revision moved


# --- 3. the latest version of every object is what head has installed ----------------------------------


@pytest.fixture(scope="module")
def head_conn(pg_server: Server, _templates: None) -> Iterator[Conn]:
    """A connection to a database at head; each test works in a transaction it rolls back."""
    with fresh_database(pg_server, TEMPLATE_HEAD) as url, psycopg.connect(url) as conn:
        yield conn


@pytest.mark.parametrize("name", sorted(object_versions()), ids=str)
def test_the_latest_version_of_each_object_is_installed_at_head(name: str, head_conn: Conn) -> None:
    latest = max(object_versions()[name])
    text = (OBJECTS_DIR / name / f"v{latest}.sql").read_text(encoding="utf-8")
    try:
        before = snapshot(head_conn)
        head_conn.execute(text.encode())
        after = snapshot(head_conn)
    finally:
        head_conn.rollback()
    assert differing(before, after) == [], f"sql/objects/{name}/v{latest}.sql differs from what head installed"


def test_every_function_trigger_and_view_at_head_is_a_replaceable_object(head_snapshot: dict[str, str]) -> None:
    installed = {
        re.sub(r"^(function|trigger|view) (?:[\w.]+\.)?(\w+)(\(.*\))?$", r"\2", key)
        for key in head_snapshot
        if key.split(" ", 1)[0] in ("function", "trigger", "view")
    }
    assert sorted(installed - set(object_versions())) == [], "each needs sql/objects/<name>/v<N>.sql"
