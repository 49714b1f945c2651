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
from voice_migration.cli.rollback_cmd import rollback_command
from voice_migration.cli.rollout_cmd import rollout_group
from voice_migration.cli.seed_cmd import seed_command
from voice_migration.cli.status_cmd import status_command
from voice_migration.cli.validate_cmd import validate_command
from voice_migration.cli.watch_cmd import resume_command, watch_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
main.add_command(status_command)
