"""The least-privilege operator role (sql/security/operator_role.sql): migrate, validate, rollout; never a drop.

The deploy pipeline, as the owner, brought the schema to head (backfill not run); a person in the
``voice_migration_operator`` role then does the day's work through the CLI, and tries what the role
must not be able to do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import conninfo, sql

from tests.helpers import BATCH_SIZE, error_lines, invoke, scalar
from voice_migration.infra.resources import read_sql

pytestmark = pytest.mark.reliability

GROUP = "voice_migration_operator"


@pytest.fixture()
def operator_url(staged_url: str) -> Iterator[str]:
    """The staged database with the operator role installed, and the URL of a login in that role."""
    login = f"alice_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(staged_url, autocommit=True) as conn:
        conn.execute(read_sql("security/operator_role.sql").encode())
        conn.execute(f"GRANT SELECT ON public.reliability_switch TO {GROUP}")  # the test-only slow-batch switch
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(sql.Identifier(login), sql.Identifier(GROUP)))
    params = conninfo.conninfo_to_dict(staged_url)
    yield f"postgresql://{login}@{params.get('host')}:{params.get('port')}/{params.get('dbname')}"
    with psycopg.connect(staged_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(login)))
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(GROUP)))


def test_the_operator_role_runs_migrate_validate_and_rollout(operator_url: str, staged_url: str) -> None:
    for args in (["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], ["validate"], ["validate", "--fix"]):
        result = invoke(args, url=operator_url)
        assert result.exit_code == 0, f"{' '.join(args)}:\n{result.output}"
    # Every tenant of the corpus has a quarantined config: the role sees the hold (SELECT + policy) and is
    # refused; --force is the audited way past it.
    refused = invoke(["rollout", "enable-tenant", "tenant_000001", "--by", "alice"], url=operator_url)
    assert refused.exit_code == 1 and "held on v1" in refused.output, refused.output
    steps = [
        ["backups", "list"],
        ["rollout", "set-percentage", "10", "--by", "alice"],
        ["rollout", "enable-tenant", "tenant_000001", "--force", "--by", "alice"],
        ["rollout", "status"],
        ["rollback", "--level", "tenant", "--tenant-id", "tenant_000001", "--by", "alice"],
        ["rollback", "--level", "partial", "--target-percentage", "5", "--by", "alice"],
        ["rollback", "--level", "total", "--reason", "drill", "--by", "alice"],
    ]
    for args in steps:
        result = invoke(args, url=operator_url)
        assert result.exit_code == 0, f"{' '.join(args)}:\n{result.output}"
    assert scalar(staged_url, "SELECT count(*) FROM voice_agent_configs WHERE schema_version = 'v2'") == 57
    actions = scalar(staged_url, "SELECT string_agg(action, ',' ORDER BY id) FROM voice_agent_v2_flag_audit")
    assert actions == "install,set_percentage,enable_tenant_forced,rollback_tenant,rollback_partial,rollback_total"


FORBIDDEN = (
    "DROP TABLE voice_agent_configs",
    "DROP TABLE voice_agent_v2_flag_audit",
    "DROP TABLE voice_migration.quarantine",
    "DROP SCHEMA voice_migration CASCADE",
    "TRUNCATE voice_agent_calls",
    "ALTER TABLE voice_agent_configs DROP COLUMN prompt",
    "ALTER TABLE voice_agent_v2_flags DISABLE ROW LEVEL SECURITY",
    "DELETE FROM tenants",
    "DELETE FROM voice_agent_v2_flag_audit",
    "INSERT INTO voice_agent_v2_flag_audit (changed_by, level, action) VALUES ('forged', 'global', 'sql')",
    "UPDATE voice_migration.capability_catalog SET description = 'x'",
    "CREATE FUNCTION public.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
)


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_the_operator_role_cannot_drop_alter_or_forge(operator_url: str, staged_url: str, statement: str) -> None:
    tables = scalar(staged_url, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'voice_migration')")
    with psycopg.connect(operator_url, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement.encode())
    assert scalar(staged_url, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'voice_migration')") == (
        tables
    )


def test_a_data_rollback_is_left_to_the_owner_with_one_clear_line(operator_url: str) -> None:
    assert invoke(["backups", "create"], url=operator_url).exit_code == 0
    backup_id = str(scalar(operator_url, "SELECT max(backup_id) FROM voice_migration.backups"))
    result = invoke(["rollback", "--level", "data", "--backup-id", backup_id, "--yes"], url=operator_url)
    assert result.exit_code == 1, result.output
    errors = error_lines(result.stderr)
    # The restore locks tenants against writers and disables the tables' triggers: the owner's rights.
    assert len(errors) == 1 and "permission denied for table tenants" in errors[0], result.stderr
    assert "Traceback" not in result.output
