"""Progress and logs without a terminal: plain lines, per-batch detail on demand, JSON for log shippers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from voice_migration.cli.output import configure_logging, setup_output
from voice_migration.infra.errors import ConfigurationError
from voice_migration.progress import LogProgress


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    logger = logging.getLogger("voice_migration")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


def simulate_phase(reporter: LogProgress, batches: int) -> None:
    reporter.start_phase("transform configs", batches * 10)
    for batch in range(1, batches + 1):
        reporter.update("transform configs", batch * 10, batches * 10)
    reporter.finish_phase("transform configs", f"{batches * 10} rows changed")


def test_json_logs_are_one_object_per_line_with_structured_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICE_MIGRATION_LOG", raising=False)
    out = io.StringIO()
    configure_logging(log_format="json", stream=out, verbose=True)
    simulate_phase(LogProgress(), batches=4)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 6, "start, one per batch (verbose), end"
    assert {r["logger"] for r in records} == {"voice_migration.progress"}
    assert [r["done"] for r in records if "done" in r] == [10, 20, 30, 40]
    assert records[-1]["phase"] == "transform configs" and "40 rows changed" in records[-1]["message"]


def test_without_verbose_batches_are_not_logged_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICE_MIGRATION_LOG", raising=False)
    out = io.StringIO()
    configure_logging(log_format="text", stream=out)
    simulate_phase(LogProgress(), batches=50)
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 4, lines  # start, end, and at most a throttled progress line
    assert "\x1b[" not in out.getvalue(), "no terminal control codes in plain logs"


def test_voice_migration_log_debug_gives_per_batch_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_MIGRATION_LOG", "debug")
    out = io.StringIO()
    configure_logging(log_format="text", stream=out)
    simulate_phase(LogProgress(), batches=5)
    assert sum("transform configs: " in line and "/50" in line for line in out.getvalue().splitlines()) == 5


def test_a_wrong_log_level_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_MIGRATION_LOG", "loud")
    with pytest.raises(ConfigurationError, match="VOICE_MIGRATION_LOG"):
        setup_output(interactive=False)


def test_passwords_are_masked_in_every_log_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICE_MIGRATION_LOG", raising=False)
    for log_format in ("text", "json"):
        out = io.StringIO()
        configure_logging(log_format=log_format, stream=out)  # type: ignore[arg-type]
        logging.getLogger("voice_migration.test").warning("cannot reach postgresql://app:s3cret@db:5432/x")
        assert "s3cret" not in out.getvalue() and "app:***@db" in out.getvalue()
