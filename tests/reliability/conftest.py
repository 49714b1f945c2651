"""Fixtures of the reliability suite: seeded databases cloned from session templates, and the reference end state.

* ``seeded_url``     — the messy v1 corpus (``helpers.SPEC``) at the v1 baseline, with the test-only
                       slow-batch trigger (``helpers.SLOW_BATCHES_SQL``, inert unless a session asks);
* ``staged_url``     — the same data at Alembic head with the backfill not run yet (what a deploy
                       pipeline leaves: ``alembic upgrade head -x skip_backfill=true``);
* ``reference_state``— :func:`helpers.end_state` of an uninterrupted ``migrate`` of that corpus.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from alembic import command
from tests.conftest import TEMPLATE_V1
from tests.helpers import BATCH_SIZE, SLOW_BATCHES_SQL, SPEC, Server, fresh_database, invoke, mark_template, url_state
from voice_migration.demo.seed import seed_v1
from voice_migration.migration import revisions

TEMPLATE_SEEDED = "vm_template_reliability_v1"
TEMPLATE_STAGED = "vm_template_reliability_staged"


def upgrade_without_backfill(url: str) -> None:
    """``alembic upgrade head -x skip_backfill=true``: the schema of head, the rows still in v1 shape."""
    config = revisions.alembic_config(url)
    config.attributes["skip_backfill"] = True
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def _seeded_template(pg_server: Server, _templates: None) -> Iterator[str]:
    janitor = pg_server.janitor(TEMPLATE_SEEDED, TEMPLATE_V1)
    janitor.drop()
    janitor.init()
    with psycopg.connect(pg_server.url(TEMPLATE_SEEDED)) as conn:
        seed_v1(conn, SPEC)
        conn.execute(SLOW_BATCHES_SQL.encode())
        conn.commit()
    mark_template(pg_server, TEMPLATE_SEEDED)
    yield TEMPLATE_SEEDED
    pg_server.janitor(TEMPLATE_SEEDED, as_template=True).drop()


@pytest.fixture(scope="session")
def _staged_template(pg_server: Server, _seeded_template: str) -> Iterator[str]:
    janitor = pg_server.janitor(TEMPLATE_STAGED, _seeded_template)
    janitor.drop()
    janitor.init()
    upgrade_without_backfill(pg_server.url(TEMPLATE_STAGED))
    mark_template(pg_server, TEMPLATE_STAGED)
    yield TEMPLATE_STAGED
    pg_server.janitor(TEMPLATE_STAGED, as_template=True).drop()


@pytest.fixture()
def seeded_url(pg_server: Server, _seeded_template: str) -> Iterator[str]:
    """A fresh copy of the messy v1 corpus at the baseline revision."""
    with fresh_database(pg_server, _seeded_template) as url:
        yield url


@pytest.fixture()
def staged_url(pg_server: Server, _staged_template: str) -> Iterator[str]:
    """A fresh copy of the corpus at head, rows not backfilled yet."""
    with fresh_database(pg_server, _staged_template) as url:
        yield url


@pytest.fixture(scope="session")
def reference_state(pg_server: Server, _seeded_template: str) -> dict[str, str]:
    """The end state of one uninterrupted ``migrate --yes`` of the corpus (what every fault must end in)."""
    with fresh_database(pg_server, _seeded_template) as url:
        result = invoke(["migrate", "--yes", "--batch-size", str(BATCH_SIZE)], url=url)
        assert result.exit_code == 0, result.output
        return url_state(url)
