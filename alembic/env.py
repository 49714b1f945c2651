"""Alembic environment for voice-migration.

* The database URL comes from (first match): the ``database_url`` attribute set
  by the voice-migration CLI, ``-x database_url=...``, ``DATABASE_URL``, or
  ``sqlalchemy.url`` in alembic.ini. A plain ``postgresql://`` URL is mapped to
  the psycopg 3 driver.
* Every revision runs in its own transaction (``transaction_per_migration``), so
  a failure leaves the database at the last completed revision.
* Offline mode (``--sql``) needs no database: it prints PostgreSQL SQL.
"""

from __future__ import annotations

from sqlalchemy import create_engine, pool

from alembic import context
from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.secrets import redact_url
from voice_migration.infra.settings import Environment, sqlalchemy_url

config = context.config


def _database_url() -> str | None:
    from_cli = config.attributes.get("database_url")
    if from_cli:
        return str(from_cli)
    x_args = context.get_x_argument(as_dictionary=True)
    return (
        x_args.get("database_url") or Environment.of().text("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout; any URL only picks the dialect, none is needed."""
    url = _database_url()
    context.configure(
        url=sqlalchemy_url(url) if url else "postgresql+psycopg://",
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the database, one transaction per revision."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = _database_url()
    if not url:
        raise SystemExit("alembic: no database given: set DATABASE_URL or pass -x database_url=postgresql://...")
    connect_timeout = Environment.of().connect_timeout()
    engine = create_engine(
        sqlalchemy_url(url),
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": connect_timeout, "application_name": "voice-migration-alembic"},
    )
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
    except Exception as exc:
        if type(exc).__name__ == "OperationalError" and "connect" in str(exc).lower():
            raise SystemExit(f"alembic: cannot connect to {redact_url(url)}: check DATABASE_URL") from None
        raise
    finally:
        engine.dispose()


try:
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
except ConfigurationError as exc:  # a bad setting (URL, timeout) is one line, not a traceback
    raise SystemExit(f"alembic: {exc}") from None
