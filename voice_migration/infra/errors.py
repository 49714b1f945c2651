"""The kinds of failure a user can act on, and their exit codes (DESIGN.md section 6).

Every expected fault is raised as one of these. Each message says what happened,
why, and what to do, on one line. The CLI maps them to exit codes in one place
(``voice_migration.cli.common.run``); nothing else prints tracebacks or exits.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # a check failed or the operation was refused
EXIT_USAGE = 2  # usage, connection or configuration error


class VoiceMigrationError(Exception):
    """Base of all expected failures; ``exit_code`` is what the CLI exits with."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str) -> None:
        # One line, always: an operator greps for it and a log shipper keeps it whole.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        """The one-line message shown to the operator."""
        return str(self)


class UsageError(VoiceMigrationError):
    """A bad option or argument value (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigurationError(VoiceMigrationError):
    """Missing or invalid configuration, e.g. no DATABASE_URL (exit 2)."""

    exit_code = EXIT_USAGE


class ConnectionFailed(VoiceMigrationError):
    """The database cannot be reached or refused the login (exit 2)."""

    exit_code = EXIT_USAGE


class OperationRefused(VoiceMigrationError):
    """A guard refused the operation: wrong revision, no confirmation, busy (exit 1)."""

    exit_code = EXIT_FAILED


class CheckFailed(VoiceMigrationError):
    """A validation or verification check failed (exit 1)."""

    exit_code = EXIT_FAILED


class LockTimeoutExhausted(VoiceMigrationError):
    """A lock could not be taken within the lock timeout after every retry (exit 1)."""

    exit_code = EXIT_FAILED


class EmbeddedServerError(VoiceMigrationError):
    """The throwaway PostgreSQL server could not be started (exit 2)."""

    exit_code = EXIT_USAGE
