"""docs/scaling.md against the catalog: every key and join it relies on is what PostgreSQL says (issue #17).

The page's ``catalog-test`` tables are parsed here. Keys at head and after ``c001_citus_tenant_keys`` must be
exactly the catalog's primary keys, unique constraints and unique indexes of the tenant tables; each join
must appear in its object's definition; every function, view and trigger that touches a tenant table must
be listed. What Citus would do with a statement is not tested (no Citus here); the page says so.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import psycopg
import pytest
from alembic.config import Config

from alembic import command
from voice_migration.infra.resources import alembic_ini

DOC = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"
TENANT_COLUMN = {
    "tenants": "id",
    "voice_agent_configs": "tenant_id",
    "voice_agent_calls": "tenant_id",
    "voice_agent_metrics": "tenant_id",
    "voice_agent_v2_tenant_overrides": "tenant_id",
    "voice_agent_v2_held_tenants": "tenant_id",
}
TENANT_DATA = ("tenants", "voice_agent_configs", "voice_agent_calls", "voice_agent_metrics")
Conn = psycopg.Connection[tuple[object, ...]]


def doc_table(name: str) -> list[list[str]]:
    """The rows (cells without backticks) of the table after ``<!-- catalog-test: name -->``."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- catalog-test: {name} -->") + 1
    rows: list[list[str]] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")])
    assert len(rows) > 2, f"docs/scaling.md: the table {name!r} has no rows"
    return rows[2:]  # header and separator


def catalog_keys(conn: Conn) -> set[tuple[str, str, str]]:
    """(table, key, includes the tenant column) for every primary key, unique constraint and unique index."""
    keys: set[tuple[str, str, str]] = set()
    for table, column in TENANT_COLUMN.items():
        if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone() == (None,):
            continue
        rows = conn.execute(
            """
            SELECT CASE WHEN c.oid IS NOT NULL THEN pg_get_constraintdef(c.oid)
                        ELSE 'UNIQUE INDEX ' || i.indexrelid::regclass::text || ' (' ||
                             array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k (n, o)
                                                   JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.n
                                                   ORDER BY k.o), ', ') || ')' END,
                   ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS k (n)
                         JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.n)
              FROM pg_index AS i
              LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')
             WHERE i.indrelid = %s::regclass AND i.indisunique
            """,
            (f"public.{table}",),
        ).fetchall()
        for key, columns in rows:
            assert isinstance(columns, list)
            keys.add((table, str(key), "yes" if column in columns else "no"))
    return keys


def documented_keys(conn: Conn, name: str) -> set[tuple[str, str, str]]:
    rows = {(r[0], r[1], r[2]) for r in doc_table(name)}
    present = {
        t for t in TENANT_COLUMN if conn.execute("SELECT to_regclass(%s)", (f"public.{t}",)).fetchone() != (None,)
    }
    return {row for row in rows if row[0] in present}


def apply_citus(url: str) -> None:
    config = Config(str(alembic_ini()), ini_section="citus", stdout=io.StringIO())
    config.attributes["database_url"] = url
    command.upgrade(config, "citus@head")


def test_the_keys_at_head_are_the_documented_ones(head_database_url: str) -> None:
    with psycopg.connect(head_database_url) as conn:
        assert catalog_keys(conn) == documented_keys(conn, "keys at head")


def test_the_keys_after_c001_are_the_documented_ones(migrated_url: str) -> None:
    apply_citus(migrated_url)
    with psycopg.connect(migrated_url) as conn:
        assert catalog_keys(conn) == documented_keys(conn, "keys after c001")
        # The per-tenant keyset walk the page describes is served by the new primary key.
        conn.execute("ANALYZE voice_agent_calls")
        tenant, first = (
            conn.execute("SELECT tenant_id, min(id) FROM voice_agent_calls GROUP BY 1 LIMIT 1").fetchone() or ()
        )
        conn.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")  # 240 rows: force an index path
        plan = "\n".join(
            str(r[0])
            for r in conn.execute(
                "EXPLAIN SELECT id FROM voice_agent_calls WHERE tenant_id = %s AND id > %s ORDER BY id LIMIT 100",
                (tenant, first),
            ).fetchall()
        )
    assert "Index Only Scan using voice_agent_calls_pkey" in plan or "Index Scan using voice_agent_calls_pkey" in plan
    assert "Sort" not in plan


def normalised(text: str) -> str:
    return " ".join(text.replace("(", " ").replace(")", " ").split())


def definition(conn: Conn, qualified: str) -> str:
    """The text of every function of that name, or the view's definition."""
    schema, _, name = qualified.rpartition(".")
    rows = conn.execute(
        "SELECT p.prosrc FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND p.proname = %s "
        "UNION ALL SELECT pg_get_viewdef(to_regclass(%s)) WHERE to_regclass(%s) IS NOT NULL",
        (schema or "public", name, qualified, qualified),
    ).fetchall()
    assert rows, f"{qualified} is not in the catalog"
    return normalised(" ".join(str(r[0]) for r in rows))


ON_TENANT = re.compile(r"\w+\.\w+ = \w+\.tenant_id\b|\b\w+\.tenant_id = \w+\.\w+")


@pytest.mark.parametrize("row", doc_table("joins"), ids=lambda r: f"{r[0]}: {r[1]}")
def test_each_documented_join_is_in_its_definition(head_database_url: str, row: list[str]) -> None:
    qualified, join, on_tenant = row
    with psycopg.connect(head_database_url) as conn:
        assert normalised(join) in definition(conn, qualified)
    assert on_tenant == ("yes" if ON_TENANT.search(join) else "no")


def test_every_object_touching_tenant_data_is_listed(head_database_url: str) -> None:
    with psycopg.connect(head_database_url) as conn:
        found = conn.execute(
            r"""
            SELECT n.nspname || '.' || p.proname FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('public', 'voice_migration')
               AND p.prosrc ~ 'public\.(voice_agent_configs|voice_agent_calls|voice_agent_metrics|tenants)\M'
            UNION
            SELECT v.oid::regclass::text FROM pg_rewrite AS r JOIN pg_class AS v ON v.oid = r.ev_class
              JOIN pg_depend AS d ON d.objid = r.oid
             WHERE v.relkind = 'v' AND d.refobjid = ANY (%(tables)s::regclass[])
            UNION
            SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY (%(tables)s::regclass[])
            """,
            {"tables": [f"public.{t}" for t in TENANT_DATA]},
        ).fetchall()
    listed = {row[0] for row in doc_table("statements")}
    missing = sorted(str(r[0]) for r in found if str(r[0]) not in listed)
    assert missing == [], f"add a row to docs/scaling.md's 'statements' table for each of {missing}"
    assert all(row[1].split(" ")[0].rstrip(",") in ("yes", "no") for row in doc_table("statements"))
