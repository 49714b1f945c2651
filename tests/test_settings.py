"""One settings object and one password masker (issue #13, point 4).

Every environment variable is read through ``voice_migration.infra.settings.Environment`` and listed
in ``VARIABLES``; every text shown to a person is masked by ``voice_migration.infra.secrets``.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from voice_migration.infra import events
from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.secrets import redact_url, scrub
from voice_migration.infra.settings import VARIABLES, Environment, load_settings

VARIABLE_NAME = re.compile(
    r"\b(VOICE_MIGRATION_[A-Z0-9_]*[A-Z0-9]|SMTP_[A-Z]+|SLACK_WEBHOOK_URL|MIGRATION_ADMIN_EMAIL)\b"
)
ROOT = Path(__file__).resolve().parent.parent
PACKAGE_SOURCES = [*sorted((ROOT / "voice_migration").rglob("*.py")), ROOT / "alembic" / "env.py"]

# Modules allowed to touch os.environ directly, and why: settings.py is the reader; secrets.py reads the
# secret values themselves (to mask them), never configuration; demo/run.py hides the operator's
# notification variables from the demo's own run and puts them back.
ENVIRON_ALLOWED = {
    ROOT / "voice_migration" / "infra" / "settings.py",
    ROOT / "voice_migration" / "infra" / "secrets.py",
    ROOT / "voice_migration" / "demo" / "run.py",
}


def _environ_reads(path: Path) -> list[int]:
    """Line numbers where ``os.environ`` or ``os.getenv`` is used in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in {"environ", "getenv", "environb"}
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    ]


def test_only_the_settings_module_reads_the_environment() -> None:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in PACKAGE_SOURCES
        if path not in ENVIRON_ALLOWED and (lines := _environ_reads(path))
    }
    assert offenders == {}


def test_every_variable_the_code_names_is_registered_with_a_description() -> None:
    named = set()
    for path in PACKAGE_SOURCES:
        named |= set(VARIABLE_NAME.findall(path.read_text()))
    named -= {"VOICE_MIGRATION_TEST_DSN"}  # the test suite's own variable, read by tests/conftest.py
    assert named - set(VARIABLES) == set()
    assert all(description.strip() for description in VARIABLES.values())


def test_an_unregistered_name_is_a_programming_error_not_a_silent_default() -> None:
    with pytest.raises(KeyError, match="not a voice-migration setting"):
        Environment.of({}).text("VOICE_MIGRATION_NO_SUCH_THING")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("VOICE_MIGRATION_CONNECT_TIMEOUT", "soon", "not a positive whole number"),
        ("VOICE_MIGRATION_CONNECT_TIMEOUT", "0", "not a positive whole number"),
        ("VOICE_MIGRATION_LOCK_TIMEOUT", "two seconds", "not a duration"),
        ("VOICE_MIGRATION_STATEMENT_TIMEOUT", "-1", "not a duration"),
    ],
)
def test_a_bad_connection_value_is_refused_naming_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected) as refused:
        load_settings("postgresql://u@h/db", env={name: value})
    assert name in str(refused.value)
    assert "\n" not in str(refused.value)


def test_settings_come_from_the_given_environment_with_defaults() -> None:
    settings = load_settings(
        env={
            "DATABASE_URL": "postgresql://u@h/db",
            "VOICE_MIGRATION_LOCK_TIMEOUT": " 500ms ",
            "VOICE_MIGRATION_CONNECT_TIMEOUT": "3",
        }
    )
    assert (settings.database_url, settings.lock_timeout, settings.statement_timeout, settings.connect_timeout) == (
        "postgresql://u@h/db",
        "500ms",
        "0",
        3,
    )


def test_a_bad_value_for_an_unused_setting_does_not_stop_anything() -> None:
    environment = Environment.of({"VOICE_MIGRATION_FLAG_CACHE_TTL": "never", "VOICE_MIGRATION_LOG": "info"})
    assert environment.lock_timeout() == "2s"
    with pytest.raises(ConfigurationError, match="VOICE_MIGRATION_FLAG_CACHE_TTL='never'"):
        environment.positive_number("VOICE_MIGRATION_FLAG_CACHE_TTL", 30)


def test_alembic_refuses_a_bad_connect_timeout_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://u@127.0.0.1:9/db",
        "VOICE_MIGRATION_CONNECT_TIMEOUT": "x",
    }
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "VOICE_MIGRATION_CONNECT_TIMEOUT='x' is not a positive whole number" in done.stderr


# --- the one masker ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://app:s3cret@db:5432/voice", "postgresql://app:***@db:5432/voice"),
        ("postgresql://app:p@ss@db/voice", "postgresql://app:***@db/voice"),
        ("postgresql://db/voice?user=app&password=s3cret", "postgresql://db/voice?user=app&password=***"),
        ("postgresql://app@db/voice", "postgresql://app@db/voice"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url_masks_the_password_wherever_libpq_takes_it(url: str, masked: str) -> None:
    assert redact_url(url) == masked


def test_scrub_masks_urls_in_text_and_the_processes_known_secrets() -> None:
    env = {"DATABASE_URL": "postgresql://app:dbpass@db/voice", "SMTP_PASSWORD": "mailpass"}
    text = "failed: postgresql://x:inline@h/d; server said dbpass and mailpass; given tokenXYZ"
    assert scrub(text, secrets=["tokenXYZ"], env=env) == (
        "failed: postgresql://x:***@h/d; server said *** and ***; given ***"
    )


def test_scrub_masks_the_password_of_a_url_the_caller_names() -> None:
    assert scrub("auth failed for s3cret", urls=["postgresql://db/v?password=s3cret"], env={}) == "auth failed for ***"


# --- the core announces, the CLI delivers ---------------------------------------------------------------

CORE = [p for p in (ROOT / "voice_migration").rglob("*.py") if "cli" not in p.relative_to(ROOT).parts]


def test_no_core_module_sends_a_notification_or_prints() -> None:
    offenders = {}
    for path in CORE:
        text = path.read_text()
        hits = [name for name in ("send_notification(", "print(", "click.echo", "Console(") if name in text]
        if path.name == "notify.py":  # the channels themselves
            hits = [name for name in hits if name != "send_notification("]
        if hits:
            offenders[str(path.relative_to(ROOT))] = hits
    assert offenders == {}


def test_an_event_reaches_every_listener_and_a_failing_listener_fails_nothing() -> None:
    heard: list[tuple[str, str]] = []

    def broken(kind: str, message: str, details: object) -> None:
        raise RuntimeError("smtp down")

    with events.listening(broken), events.listening(lambda kind, message, details: heard.append((kind, message))):
        events.emit("migration_completed", "done", {})
    events.emit("migration_completed", "nobody hears this", {})
    assert heard == [("migration_completed", "done")]


def test_the_readme_lists_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [name for name in VARIABLES if f"| `{name}` |" not in readme] == []
