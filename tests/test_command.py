"""The command layer (``voice_migration.command``): one typed function per CLI command, callable from Python.

It opens its own connection from settings, never prints, and a notification goes only to the
``notify`` callback the caller passes (the CLI passes the Slack / e-mail channels).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg
import pytest

from tests.conftest import add_tenants
from voice_migration import command
from voice_migration.infra.errors import OperationRefused
from voice_migration.infra.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
Heard = list[tuple[str, str, dict[str, object]]]


def _listener(heard: Heard) -> Callable[[str, str, Mapping[str, object]], None]:
    def hear(kind: str, message: str, details: Mapping[str, object]) -> None:
        heard.append((kind, message, dict(details)))

    return hear


def test_a_flag_command_changes_the_flags_and_tells_only_the_given_listener(flags_database_url: str) -> None:
    settings = load_settings(flags_database_url)
    with psycopg.connect(flags_database_url, autocommit=True) as conn:
        add_tenants(conn, 4)
    heard: Heard = []
    change = command.set_percentage(settings, 25, "ann", reason="day 1", notify=_listener(heard))
    assert (change.action, change.changed_by) == ("set_percentage", "ann")
    assert heard == [
        ("rollout_set_percentage", "voice agent v2 set to 25 %, master switch on by ann", change.details())
    ]
    assert command.rollout_status(settings).percentage == 25

    command.rollback_total(settings, "webhook errors", "bob")  # no listener: nobody hears it
    assert len(heard) == 1
    assert command.rollout_status(settings).enabled is False
    kinds = [getattr(entry, "action", None) for entry in command.rollout_history(settings, limit=5)]
    assert kinds[:2] == ["rollback_total", "set_percentage"]


def test_a_refusal_from_the_confirm_callback_changes_nothing(head_database_url: str) -> None:
    settings = load_settings(head_database_url)
    backup = command.backups_create(settings)

    def refuse(_info: object) -> None:
        raise OperationRefused("not today")

    with pytest.raises(OperationRefused, match="not today"):
        command.backups_drop(settings, backup.backup_id, force=True, confirm=refuse)
    assert [b.backup_id for b in command.backups_list(settings)] == [backup.backup_id]


def test_no_cli_module_opens_a_connection_or_calls_the_core_around_the_command_layer() -> None:
    opened = {}
    for path in sorted((ROOT / "voice_migration" / "cli").glob("*.py")):
        tree = ast.parse(path.read_text())
        names = {
            node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
        }
        if hits := names & {"connect", "run_migration", "restore_backup", "update_rollout_percentage", "seed_v1"}:
            opened[path.name] = sorted(hits)
    assert opened == {}
