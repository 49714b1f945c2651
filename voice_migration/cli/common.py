"""What every command shares: the ``--database-url`` option, connecting, and error-to-exit mapping.

This is the one place where expected failures become exit codes (DESIGN.md
section 6): a :class:`~voice_migration.infra.errors.VoiceMigrationError` prints its
one-line message on stderr and exits with its code; no traceback is shown.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
import psycopg

from voice_migration.cli.output import JsonFormatter
from voice_migration.infra.errors import EXIT_FAILED, EXIT_USAGE, VoiceMigrationError
from voice_migration.infra.events import Listener
from voice_migration.infra.notify import send_notification, setup_warnings
from voice_migration.infra.secrets import scrub
from voice_migration.infra.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")

database_url_option = click.option(
    "--database-url",
    "database_url",
    metavar="URL",
    default=None,
    envvar="DATABASE_URL",
    show_envvar=True,
    help="PostgreSQL URL (libpq or SQLAlchemy form). The password is never printed.",
)


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object on stdout, with the schema documented in docs/schemas/ (docs/operator.md).",
)


def echo_json(document: object) -> None:
    """Print ``document`` as the one JSON object of a ``--format json`` run (errors still go to stderr)."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def fail(message: str, code: int) -> None:
    """Print ``error: message`` on stderr (one line) and exit with ``code``."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a click command so expected faults exit cleanly with one line on stderr."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        url = kwargs.get("database_url")
        try:
            return func(*args, **kwargs)
        except VoiceMigrationError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail(
                "interrupted by the operator; nothing half-done was committed, re-run the command to resume",
                EXIT_FAILED,
            )
        except psycopg.OperationalError as exc:
            detail = _describe(exc)
            fail(
                f"lost the database connection ({scrub(detail, urls=[url if isinstance(url, str) else None])}); "
                "check the server and re-run the command, it resumes where it stopped",
                EXIT_USAGE,
            )
        except psycopg.Error as exc:
            detail = _describe(exc)
            fail(
                f"the database refused a statement ({scrub(detail, urls=[url if isinstance(url, str) else None])}); "
                "nothing half-done was committed; run `voice-migration validate` and report this line",
                EXIT_FAILED,
            )
        raise AssertionError("unreachable")  # fail() always exits

    return wrapper


def _describe(exc: psycopg.Error) -> str:
    """The server's primary message and hint, on one line: not the CONTEXT, which can quote pages of SQL."""
    diag = exc.diag
    text = diag.message_primary or str(exc)
    if diag.message_hint:
        text += f" (hint: {diag.message_hint})"
    return " ".join(text.split())


NOTIFY: Listener = send_notification
"""Where the CLI delivers the events a command announces: the configured Slack / e-mail channels."""


def settings_from(database_url: str | None) -> Settings:
    """Settings from the option or the environment (raises ConfigurationError when absent)."""
    return load_settings(database_url)


def warns_about_notification_setup(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command that notifies: at its start, print one ``warning:`` line per incomplete channel setup.

    E.g. ``MIGRATION_ADMIN_EMAIL`` set without ``SMTP_HOST`` would otherwise send nothing in silence
    (:func:`voice_migration.infra.notify.setup_warnings`). Never stops the command.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for warning in setup_warnings():
            if kwargs.get("log_format") == "json":  # a log shipper reading stderr gets one JSON object per line
                record = logging.makeLogRecord(
                    {
                        "name": "voice_migration.notify",
                        "levelno": logging.WARNING,
                        "levelname": "WARNING",
                        "msg": warning,
                    }
                )
                click.echo(JsonFormatter().format(record), err=True)
            else:
                click.echo(f"warning: {warning}", err=True)
        return func(*args, **kwargs)

    return wrapper
