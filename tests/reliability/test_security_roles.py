"""Nobody let in: API roles read nothing of the rollout or the bookkeeping, and planted objects hijack nothing.

* ``anon`` as Supabase sets it up (USAGE on ``public``, default privileges ALL on new tables and
  functions): the new ``public`` tables have row-level security without a policy for it, so it reads
  and changes nothing; ``voice_migration`` is closed to it. A role with no grants at all is refused.
* An attacker allowed to create objects in ``public`` (PostgreSQL 14 and older gave that to PUBLIC)
  plants functions and operators under the names our functions call, with argument types that would
  win overload resolution. Our functions pin ``search_path`` and run as the invoker; the planted
  objects must never run — they would run with the rights of whoever triggers them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from tests.helpers import BATCH_SIZE, invoke

pytestmark = pytest.mark.reliability

Conn = psycopg.Connection[tuple[object, ...]]
NEW_PUBLIC_TABLES = ("voice_agent_v2_flags", "voice_agent_v2_tenant_overrides", "voice_agent_v2_flag_audit",
                     "voice_agent_metrics", "alembic_version", "voice_agent_v2_held_tenants")  # fmt: skip
V1_TABLES = ("tenants", "voice_agent_configs", "voice_agent_calls")


@contextmanager
def role(url: str, prefix: str, *grants: str) -> Iterator[str]:
    """A NOLOGIN role (cluster-wide, so uniquely named) with ``grants`` ({role} is its name); dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
        for grant in grants:
            conn.execute(sql.SQL(grant).format(role=sql.Identifier(name)))  # type: ignore[arg-type]
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(name)))


def as_role(conn: Conn, name: str, query: str) -> list[tuple[object, ...]] | str:
    """Run ``query`` as ``name`` in a rolled-back transaction: its rows, or the error's SQLSTATE name."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))
            cursor = conn.execute(query.encode())
            return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]
    except psycopg.Error as exc:
        return type(exc).__name__


SUPABASE_ANON = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO {role}",
)


def migrate_with_rollout_state(url: str) -> None:
    """Migrate, then put something in every rollout table: 30 %, one override, their audit.

    Every tenant of the corpus has a quarantined config, so the held set is filled by the migration and the
    override needs --force (enable-tenant refuses a held tenant).
    """
    assert invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=url).exit_code == 0
    assert invoke(["rollout", "set-percentage", "30", "--by", "ops"], url=url).exit_code == 0
    assert invoke(["rollout", "enable-tenant", "tenant_000001", "--force", "--by", "ops"], url=url).exit_code == 0


def test_every_table_the_migration_creates_in_public_has_row_level_security(seeded_url: str) -> None:
    migrate_with_rollout_state(seeded_url)
    with psycopg.connect(seeded_url) as conn:
        unprotected = conn.execute(
            "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity AND c.relname <> ALL (%s) "
            "AND c.relname NOT LIKE 'reliability%%' ORDER BY 1",
            (list(V1_TABLES),),
        ).fetchall()
    assert unprotected == []


def test_supabase_anon_reads_and_changes_nothing_of_the_rollout_or_the_bookkeeping(seeded_url: str) -> None:
    with role(seeded_url, "anon", *SUPABASE_ANON) as anon:
        migrate_with_rollout_state(seeded_url)
        with psycopg.connect(seeded_url) as conn:
            for table in NEW_PUBLIC_TABLES:
                assert as_role(conn, anon, f"SELECT count(*) FROM {table}") == [(0,)], table
            assert as_role(conn, anon, "UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 100") == [
                (0,)
            ]
            assert as_role(conn, anon, "DELETE FROM voice_agent_v2_tenant_overrides") == [(0,)]
            assert as_role(conn, anon, "DELETE FROM alembic_version") == [(0,)], "the deploy state is safe"
            assert as_role(conn, anon, "DELETE FROM voice_agent_v2_held_tenants") == [(0,)], "nobody lifts a hold"
            refused = as_role(conn, anon, "INSERT INTO voice_agent_v2_tenant_overrides VALUES ('tenant_000002', true)")
            assert refused == "InsufficientPrivilege", "row-level security refuses the new row"
            assert as_role(conn, anon, "SELECT voice_agent_v2_enabled('tenant_000001')") == [(False,)]
            for table in ("quarantine", "backups", "backfill_progress", "capability_catalog"):
                assert as_role(conn, anon, f"SELECT 1 FROM voice_migration.{table}") == "InsufficientPrivilege"
            # The owner still sees the state anon could not: the checks above are not vacuous.
            row = conn.execute("SELECT rollout_percentage FROM voice_agent_v2_flags").fetchone()
            assert row == (30,)
            held = conn.execute("SELECT count(*) FROM voice_agent_v2_held_tenants").fetchone()
            assert held is not None and held[0] > 0


def test_a_role_without_grants_is_refused_everything(seeded_url: str) -> None:
    migrate_with_rollout_state(seeded_url)
    with role(seeded_url, "nobody") as nobody, psycopg.connect(seeded_url) as conn:
        for table in (*NEW_PUBLIC_TABLES, "voice_migration.quarantine", "voice_migration.backups"):
            assert as_role(conn, nobody, f"SELECT 1 FROM {table}") == "InsufficientPrivilege", table
        assert as_role(conn, nobody, "SELECT voice_agent_v2_enabled('tenant_000001')") == "InsufficientPrivilege"


# What the attacker plants in public: every name below is something our functions call, with argument
# types that beat the built-in in overload resolution (an exact match wins over a polymorphic or
# variadic one, wherever it sits in the search_path); and functions named like ours. Each logs its call.
PLANTED = """
CREATE TABLE public.hijacked (what text, by_user text DEFAULT current_user);
GRANT INSERT ON public.hijacked TO PUBLIC;
CREATE FUNCTION public.hijack(what text) RETURNS void LANGUAGE sql AS
    $$ INSERT INTO public.hijacked (what) VALUES (what) $$;
GRANT EXECUTE ON FUNCTION public.hijack(text) TO PUBLIC;
CREATE FUNCTION public.to_jsonb(r public.voice_agent_configs) RETURNS jsonb LANGUAGE sql AS
    $$ SELECT public.hijack('to_jsonb(voice_agent_configs)'); SELECT '{}'::jsonb $$;
CREATE FUNCTION public.to_jsonb(r public.voice_agent_calls) RETURNS jsonb LANGUAGE sql AS
    $$ SELECT public.hijack('to_jsonb(voice_agent_calls)'); SELECT '{}'::jsonb $$;
CREATE FUNCTION public.jsonb_build_object(text, boolean, text, integer) RETURNS jsonb LANGUAGE sql AS
    $$ SELECT public.hijack('jsonb_build_object'); SELECT '{}'::jsonb $$;
CREATE FUNCTION public.jsonb_build_object(text, boolean, text, text) RETURNS jsonb LANGUAGE sql AS
    $$ SELECT public.hijack('jsonb_build_object'); SELECT '{}'::jsonb $$;
CREATE FUNCTION public.jsonb_build_object(text, text, text, text) RETURNS jsonb LANGUAGE sql AS
    $$ SELECT public.hijack('jsonb_build_object'); SELECT '{}'::jsonb $$;
CREATE FUNCTION public.unnest(r public.voice_agent_configs[]) RETURNS SETOF public.voice_agent_configs LANGUAGE sql AS
    $$ SELECT public.hijack('unnest(voice_agent_configs[])'); SELECT * FROM pg_catalog.unnest(r) $$;
CREATE FUNCTION public.hijack_mod(bigint, integer) RETURNS bigint LANGUAGE sql AS
    $$ SELECT public.hijack('%(bigint,integer)'); SELECT 0::bigint $$;
CREATE OPERATOR public.% (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.hijack_mod);
CREATE FUNCTION public.normalize_key(text) RETURNS text LANGUAGE sql AS
    $$ SELECT public.hijack('normalize_key'); SELECT 'x' $$;
CREATE FUNCTION public.fold_text(text) RETURNS text LANGUAGE sql AS
    $$ SELECT public.hijack('fold_text'); SELECT ' x ' $$;
CREATE FUNCTION public.normalize_language(text) RETURNS text LANGUAGE sql AS
    $$ SELECT public.hijack('normalize_language'); SELECT 'xx' $$;
"""

# The victims, in plain SQL so that only our functions and triggers run (not the CLI's own queries):
# the backfill procedure (derive functions, quarantine), a v1 application (dual-write triggers), a
# flag change (stamp trigger, SECURITY DEFINER audit trigger) and the application's flag check.
VICTIMS = """
INSERT INTO voice_agent_configs (id, tenant_id, name, prompt, voice_id, language, enabled)
VALUES ('cfg_new', 'tenant_000001', 'New', 'Agenda citas y responde preguntas frecuentes', 'voice_1', 'es_MX', true),
       ('cfg_bad', 'tenant_000001', 'Bad', '', 'voice_1', 'es', true);
UPDATE voice_agent_configs SET language = 'klingon' WHERE id = 'cfg_00000020';
INSERT INTO voice_agent_calls (id, tenant_id, config_id, status, outcome)
VALUES ('call_new', 'tenant_ghost', 'cfg_missing', 'completed', 'Cita Agendada');
UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 40;
INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant_000003', false);
SELECT voice_agent_v2_enabled(id) FROM tenants;
"""


def test_objects_planted_in_public_never_run_inside_our_functions(staged_url: str) -> None:
    with role(staged_url, "mallory", "GRANT CREATE, USAGE ON SCHEMA public TO {role}") as mallory:
        with psycopg.connect(staged_url) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(mallory)))
            conn.execute(PLANTED.encode())
            conn.commit()
        with psycopg.connect(staged_url, autocommit=True) as conn:
            conn.execute("CALL voice_migration.backfill(10)")  # alone: it commits per batch
            conn.execute(VICTIMS.encode())
            hijacked = conn.execute("SELECT DISTINCT what, by_user FROM public.hijacked ORDER BY 1").fetchall()
            # The victims' work was done, and done right: the planted objects had every chance to run.
            migrated = conn.execute(
                "SELECT count(*) FILTER (WHERE schema_version = 'v2'), count(*) FILTER (WHERE voice_config = '{}') "
                "FROM voice_agent_configs"
            ).fetchone()
            quarantined = conn.execute(
                "SELECT count(DISTINCT entity_id) FROM voice_migration.quarantine "
                "WHERE entity_id IN ('cfg_bad', 'cfg_00000020', 'call_new') AND original_row <> '{}'"
            ).fetchone()
            audit = conn.execute(
                "SELECT new_value FROM voice_agent_v2_flag_audit WHERE action = 'sql' ORDER BY id"
            ).fetchall()
            enabled = conn.execute("SELECT voice_agent_v2_enabled('tenant_000003')").fetchone()
            conn.execute("DROP TABLE public.hijacked CASCADE; DROP FUNCTION public.hijack(text) CASCADE")
    assert hijacked == [], hijacked
    assert migrated == (57, 0)
    assert quarantined == (3,)
    assert [row[0] for row in audit] == [
        {"enabled": True, "rollout_percentage": 40},
        {"enabled": False, "reason": None},
    ]
    assert enabled == (False,)


# The one SECURITY DEFINER function, on purpose: the audit must be written even by a role that may change
# flags but not write (or forge) the audit (sql/objects/voice_agent_v2_audit_change/). The one routine without a pinned
# search_path: the backfill procedure, which PostgreSQL forbids to COMMIT with a SET clause; it
# schema-qualifies every name instead (sql/objects/backfill/).
# The audit trigger (a writer cannot skip or forge the audit) and the override-filter trigger (a writer of
# overrides who could not see or update the flags row would leave its override out of the filter, and
# voice_agent_v2_enabled would then ignore it). The held-set trigger (a role that may write configs, the
# application or the backfill, keeps the set without any right on it; sql/objects/sync_held_tenants/).
DEFINER_ON_PURPOSE = {
    "voice_agent_v2_audit_change()",
    "voice_agent_v2_track_overrides()",
    "voice_migration.sync_held_tenants()",
    # aggregates only, for a dashboard role with no grant on the calls (sql/objects/rollout_cohorts/v1.sql)
    "voice_migration.rollout_cohorts(interval,timestamp with time zone)",
}
UNPINNED_ON_PURPOSE = {"voice_migration.backfill(integer,text[],integer)"}


def test_every_function_runs_as_its_invoker_with_a_search_path_that_leaves_public_out(head_database_url: str) -> None:
    with psycopg.connect(head_database_url) as conn:
        routines = conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosecdef, "
            "(SELECT option_value FROM pg_options_to_table(p.proconfig) WHERE option_name = 'search_path') "
            "FROM pg_proc AS p WHERE p.pronamespace IN ('public'::regnamespace, 'voice_migration'::regnamespace)"
        ).fetchall()
    assert len(routines) > 20, "the revisions installed their functions"
    definers = {name for name, definer, _ in routines if definer}
    unpinned = {name for name, _, path in routines if path is None}
    with_public = {name: path for name, _, path in routines if path is not None and "public" in str(path)}
    assert definers == DEFINER_ON_PURPOSE
    assert unpinned == UNPINNED_ON_PURPOSE
    assert with_public == {}
