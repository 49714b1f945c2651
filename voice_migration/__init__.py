"""voice-migration: a database-native v1 -> v2 migration and rollout tool for PostgreSQL.

The work happens inside PostgreSQL, set-based; this package drives it through
Alembic revisions, a thin click CLI (``voice_migration.cli``) and core modules
that are callable from Python without click.
"""

#: The package version: the one place it is written (pyproject.toml reads it, ``--version`` prints it).
__version__ = "0.1.0"
