"""Asking the operator before a destructive step: the TTY and ``--yes`` rules, in one place.

``--yes`` confirms up front. Without it the question is asked on a terminal; with no
terminal on standard input (CI, cron, a pipe) there is nobody to ask, so the command is
refused (exit 1) rather than guessed.
"""

from __future__ import annotations

import sys

import click

from voice_migration.infra.errors import OperationRefused


def _require_terminal(action: str, yes: bool) -> bool:
    if yes:
        return False
    if not sys.stdin.isatty():
        raise OperationRefused(
            f"refusing to {action} without confirmation: standard input is not a terminal; "
            "pass --yes to confirm non-interactively"
        )
    return True


def confirm(action: str, *, yes: bool) -> None:
    """Ask ``Proceed to <action>? [y/N]``; raise :class:`OperationRefused` unless confirmed."""
    if _require_terminal(action, yes) and not click.confirm(f"Proceed to {action}?", default=False, err=True):
        raise OperationRefused(f"cancelled by the operator: did not {action}; nothing changed")


def confirm_by_typing(action: str, expected: str, *, yes: bool) -> None:
    """Make the operator type ``expected`` (e.g. the backup id) to go on; else :class:`OperationRefused`."""
    if not _require_terminal(action, yes):
        return
    typed = click.prompt(f"Type {expected} to {action}", default="", show_default=False, err=True)
    if typed.strip() != expected:
        raise OperationRefused(f"cancelled by the operator: the typed id did not match {expected}; nothing changed")
