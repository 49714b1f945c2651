"""Allow ``python -m voice_migration``."""

from voice_migration.cli import main

main()
