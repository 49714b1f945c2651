"""The password in DATABASE_URL never shows: not in output or logs, not in notifications, not in the database.

The test server trusts local connections, so any password works; the password is a canary string
searched for everywhere the tool writes: stdout and stderr (JSON logs included) of every command,
successful or failing, the notifications posted to a webhook, and every row of the bookkeeping
(backups manifest, quarantine, progress) and of the flag audit.
"""

from __future__ import annotations

import pytest

from tests.helpers import invoke, scalar
from tests.test_notify_channels import Inbox, webhook  # noqa: F401 - the fixture

pytestmark = pytest.mark.reliability

CANARY = "Sup3r-S3cret-canary-7f3a"


def with_password(url: str, password: str = CANARY) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")


def test_the_password_never_reaches_output_logs_notifications_or_the_database(
    seeded_url: str,
    webhook: tuple[str, Inbox],  # noqa: F811
) -> None:
    hook, inbox = webhook
    url = with_password(seeded_url)
    env = {"SLACK_WEBHOOK_URL": hook}
    runs = [
        (["migrate", "--dry-run", "--verbose", "--log-format", "json"], url, env),
        (["migrate", "--yes", "--verbose", "--log-format", "json"], url, env),
        (["validate", "--format", "json"], url, env),
        (["backups", "create"], url, env),
        (["backups", "list"], url, env),
        (["rollout", "set-percentage", "20", "--by", "ops"], url, env),
        (["rollback", "--level", "total", "--reason", "drill", "--by", "ops"], url, env),
        (["rollout", "status", "--format", "json"], url, env),
        # Given as an option rather than the environment, and a password with URL-encoded characters.
        (["rollout", "status", "--database-url", with_password(seeded_url, CANARY + "%40x")], None, env),
        # Failing: nobody listens on port 1; the error line names the URL.
        (["migrate", "--yes"], with_password("postgresql://postgres@127.0.0.1:1/nowhere"), env),
        (["validate"], "postgresql://postgres@127.0.0.1:1/nowhere?password=" + CANARY, env),
        (["rollout", "status"], "postgresql://postgres@127.0.0.1:1/nowhere?sslmode=disable&password=" + CANARY, env),
        (["backups", "list"], "mysql://root:" + CANARY + "@127.0.0.1/db", env),
    ]
    codes = []
    for args, database_url, extra in runs:
        result = invoke(args, url=database_url, env={**extra, "VOICE_MIGRATION_CONNECT_TIMEOUT": "2"})
        codes.append(result.exit_code)
        assert CANARY not in result.stdout and CANARY not in result.stderr, (args, result.output)
        assert "Traceback" not in result.output
    assert codes[:9] == [0] * 9, codes
    assert codes[9:] == [2, 2, 2, 2], "connection and configuration errors exit 2"

    assert inbox.done.wait(5)
    assert len(inbox.items) == 3, "the migration and the two flag changes were notified"
    assert all(CANARY not in item for item in inbox.items)

    leaked = scalar(
        seeded_url,
        "SELECT count(*) FROM (SELECT to_jsonb(b)::text AS t FROM voice_migration.backups AS b "
        "UNION ALL SELECT to_jsonb(q)::text FROM voice_migration.quarantine AS q "
        "UNION ALL SELECT to_jsonb(p)::text FROM voice_migration.backfill_progress AS p "
        "UNION ALL SELECT to_jsonb(a)::text FROM voice_agent_v2_flag_audit AS a "
        "UNION ALL SELECT to_jsonb(f)::text FROM voice_agent_v2_flags AS f) AS x WHERE t LIKE %s",
        (f"%{CANARY}%",),
    )
    assert leaked == 0
    assert scalar(seeded_url, "SELECT count(*) FROM voice_migration.backups") == 2, "the checks saw real rows"
