"""The ``voice-migration`` command line: thin click commands over the core modules.

Each command lives in its own ``*_cmd.py`` module and is registered here.
Commands parse options, call one core function and print its result;
``voice_migration.cli.common.handle_errors`` maps failures to exit codes.
"""

from __future__ import annotations

import click

from voice_migration import __version__
from voice_migration.cli.backups_cmd import backups_group
from voice_migration.cli.demo_cmd import demo_command
from voice_migration.cli.migrate_cmd import migrate_command
from voice_migration.cli.notify_cmd import notify_group
from voice_migration.cli.rollback_cmd import rollback_command
from voice_migration.cli.rollout_cmd import rollout_group
from voice_migration.cli.seed_cmd import seed_command
from voice_migration.cli.status_cmd import status_command
from voice_migration.cli.validate_cmd import validate_command
from voice_migration.cli.watch_cmd import resume_command, watch_command

ENVIRONMENT_EPILOG = """\b
Environment (each option's own variable is shown in its command's --help):
  DATABASE_URL                        --database-url of every command
  VOICE_MIGRATION_OPERATOR            --by of the commands that record who acted
  VOICE_MIGRATION_LOCK_TIMEOUT        lock_timeout per statement (default 2s)
  VOICE_MIGRATION_STATEMENT_TIMEOUT   statement_timeout (default none)
  VOICE_MIGRATION_CONNECT_TIMEOUT     seconds to wait for a connection (default 10)
  VOICE_MIGRATION_LOG                 log level: debug (like --verbose), info, warning, error
  SLACK_WEBHOOK_URL, SMTP_HOST, MIGRATION_ADMIN_EMAIL, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM
                                      notifications (docs/operator.md)
Shell completion: eval "$(_VOICE_MIGRATION_COMPLETE=bash_source voice-migration)" (README)."""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=ENVIRONMENT_EPILOG,
)
@click.version_option(__version__, prog_name="voice-migration")
def main() -> None:
    """Move a multi-tenant voice-agent database from v1 to v2 with no downtime, then roll v2 out."""


main.add_command(seed_command)
main.add_command(demo_command)
main.add_command(validate_command)
main.add_command(backups_group)
main.add_command(migrate_command)
main.add_command(rollout_group)
rollout_group.add_command(watch_command)
rollout_group.add_command(resume_command)
main.add_command(rollback_command)
main.add_command(notify_group)
main.add_command(status_command)
