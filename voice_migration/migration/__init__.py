"""The migration: plan, backup, restore, backfill, validation and the Alembic revisions it drives."""
