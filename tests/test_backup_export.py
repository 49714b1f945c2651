"""Backups leave the database: `backups export` writes COPY files + manifest.json, `backups import` loads them
into any database at a compatible revision after verifying every checksum, and `migrate --backup-to` exports
the backup it takes. A damaged, truncated or foreign export is refused with one line and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEMPLATE_V1, settings_for
from tests.helpers import Server, fresh_database, run_cli, v1_checksums
from voice_migration.demo.seed import SeedSpec, seed_v1
from voice_migration.migration import revisions
from voice_migration.migration.backup import create_backup, list_backups
from voice_migration.migration.backup_export import export_backup

Conn = psycopg.Connection[tuple[object, ...]]
SPEC = SeedSpec(tenants=3, configs=24, calls=300, messy=True)


@pytest.fixture()
def target_url(pg_server: Server, _templates: None) -> Iterator[str]:
    """A second, empty v1 database: where an export is imported (it has no voice_migration schema yet)."""
    with fresh_database(pg_server, TEMPLATE_V1) as url:
        yield url


@pytest.fixture()
def export_dir(v1_database_url: str, tmp_path: Path) -> Path:
    """An export of a backup of a small seeded v1 database: tmp_path/exports/<backup_id>."""
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=10, calls=80))
        info = create_backup(conn)
        return export_backup(conn, info.backup_id, tmp_path / "exports").path


def leftovers(url: str) -> tuple[object, ...]:
    """What an import may have left in the target: the voice_migration schema and any backup table."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT to_regnamespace('voice_migration') IS NOT NULL, "
            "(SELECT count(*) FROM pg_class WHERE relname LIKE 'backup\\_%')"
        ).fetchone()
    assert row is not None
    return tuple(row)


def assert_refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """Exit ``code``, exactly one line on stderr, no traceback, naming ``words``."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def rewrite_manifest(directory: Path, **changes: object) -> None:
    path = directory / "manifest.json"
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def test_export_import_restore_gives_back_the_original_v1_rows_byte_for_byte(
    v1_database_url: str, target_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SPEC)
        original = v1_checksums(conn)
        backup_id = create_backup(conn).backup_id
    exported = run_cli(["backups", "export", backup_id, "--to", str(tmp_path)], database_url=v1_database_url)
    assert exported.returncode == 0, exported.stderr
    export = tmp_path / backup_id
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["backup_id"] == backup_id and manifest["alembic_revision"] == revisions.BASELINE_REVISION
    assert set(manifest) >= {"scope", "counts", "checksums", "created_at", "tool_version"}
    assert manifest["counts"] == {"tenants": 3, "configs": 24, "calls": 300}

    # The same v1 data in a new database, migrated to v2; then a bad deploy damages its v1 rows.
    with psycopg.connect(target_url, autocommit=True) as conn:
        seed_v1(conn, SPEC)
    migrated = run_cli(["migrate", "--yes"], database_url=target_url)
    assert migrated.returncode in (0, 1), migrated.stderr  # messy data: verification may report findings
    with psycopg.connect(target_url, autocommit=True) as conn:
        assert revisions.current_revision(conn) == revisions.head_revision()
        conn.execute("UPDATE voice_agent_configs SET prompt = 'broken by a bad deploy' WHERE id IN "
                     "(SELECT id FROM voice_agent_configs ORDER BY id LIMIT 5)")  # fmt: skip
        conn.execute("DELETE FROM voice_agent_calls WHERE id IN (SELECT id FROM voice_agent_calls ORDER BY id LIMIT 7)")
        conn.execute("UPDATE tenants SET name = NULL")
        assert v1_checksums(conn) != original

    imported = run_cli(["backups", "import", str(export)], database_url=target_url)
    assert imported.returncode == 0, imported.stderr
    assert backup_id in imported.stdout and "checksums verified" in imported.stdout
    restored = run_cli(["rollback", "--level", "data", "--backup-id", backup_id, "--yes"], database_url=target_url)
    assert restored.returncode == 0, restored.stderr
    with psycopg.connect(target_url, autocommit=True) as conn:
        assert v1_checksums(conn) == original


def test_migrate_backup_to_exports_the_backup_before_changing_anything(v1_database_url: str, tmp_path: Path) -> None:
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=10, calls=80))
    result = run_cli(["migrate", "--yes", "--backup-to", str(tmp_path)], database_url=v1_database_url)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        (info,) = list_backups(conn)
    manifest = json.loads((tmp_path / info.backup_id / "manifest.json").read_text())
    assert manifest["kind"] == "migrate" and manifest["checksums"] == dict(info.checksums)
    assert manifest["alembic_revision"] == revisions.BASELINE_REVISION, "taken before the revisions ran"
    sums = (tmp_path / info.backup_id / "SHA256SUMS").read_text().splitlines()
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((tmp_path / info.backup_id / name).read_bytes()).hexdigest() == digest


def test_migrate_refuses_backup_to_with_skip_backup(v1_database_url: str, tmp_path: Path) -> None:
    result = run_cli(["migrate", "--yes", "--skip-backup", "--backup-to", str(tmp_path)], database_url=v1_database_url)
    assert_refused(result, 2, "--backup-to", "--skip-backup")


def test_an_import_into_a_database_without_the_schema_creates_it(export_dir: Path, target_url: str) -> None:
    assert leftovers(target_url) == (False, 0)
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(target_url, autocommit=True) as conn:
        (info,) = list_backups(conn)
    assert info.backup_id == export_dir.name and info.calls_count == 80


def flip_a_byte(path: Path) -> None:
    """A byte in the middle turned into 'Z': most often a value the column's type refuses."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = ord("Z") if data[middle] != ord("Z") else ord("Y")
    path.write_bytes(bytes(data))


def change_a_word(path: Path) -> None:
    """A value changed into another valid one, same size: only the file's hash can tell."""
    data = path.read_bytes()
    assert b"completed" in data
    path.write_bytes(data.replace(b"completed", b"completeD", 1))


@pytest.mark.parametrize("damage", [flip_a_byte, change_a_word])
def test_a_damaged_file_is_refused_and_nothing_is_left_behind(
    export_dir: Path, target_url: str, damage: object
) -> None:
    assert callable(damage)
    damage(export_dir / "calls.copy")
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(result, 1, "calls.copy", "damaged", "nothing was imported")
    assert leftovers(target_url) == (False, 0)


def test_a_truncated_file_is_refused_and_nothing_is_left_behind(export_dir: Path, target_url: str) -> None:
    calls = export_dir / "calls.copy"
    calls.write_bytes(calls.read_bytes()[: calls.stat().st_size // 2])
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(result, 1, "calls.copy", "truncated")
    assert leftovers(target_url) == (False, 0)


def test_rows_missing_from_a_file_whose_hash_was_recomputed_are_caught_by_the_checksum_in_sql(
    export_dir: Path, target_url: str
) -> None:
    """A file cut at a line boundary, with size and SHA-256 forged to match: only the SQL checksum can tell."""
    calls = export_dir / "calls.copy"
    kept = b"".join(calls.read_bytes().splitlines(keepends=True)[:-3])
    calls.write_bytes(kept)
    document = json.loads((export_dir / "manifest.json").read_text())
    entry = next(t for t in document["tables"] if t["name"] == "calls")
    entry.update(bytes=len(kept), sha256=hashlib.sha256(kept).hexdigest())
    (export_dir / "manifest.json").write_text(json.dumps(document))
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(result, 1, "calls.copy", "77 rows (manifest: 80)")
    assert leftovers(target_url) == (False, 0)


def test_an_export_from_an_unknown_revision_is_refused(export_dir: Path, target_url: str) -> None:
    rewrite_manifest(export_dir, alembic_revision="0099_from_the_future")
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(result, 1, "0099_from_the_future", "does not know")
    assert leftovers(target_url) == (False, 0)


def test_a_backup_from_a_later_revision_needs_the_database_upgraded_first(
    v1_database_url: str, target_url: str, tmp_path: Path
) -> None:
    revisions.upgrade(settings_for(v1_database_url), "head")
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=1, configs=3, calls=5))
        export = export_backup(conn, create_backup(conn).backup_id, tmp_path).path
    result = run_cli(["backups", "import", str(export)], database_url=target_url)
    assert_refused(result, 1, "upgrade it first", f"alembic upgrade {revisions.head_revision()}")
    assert leftovers(target_url) == (False, 0)


def test_a_directory_without_a_manifest_is_a_usage_error(export_dir: Path, target_url: str) -> None:
    (export_dir / "manifest.json").unlink()
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(result, 2, "not a backup export", "manifest.json")
    assert leftovers(target_url) == (False, 0)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="cut-in-half"),
        pytest.param(lambda text: text.replace('"type": "text"', '"type": "text references tenants"', 1), id="type"),
        pytest.param(lambda text: text.replace('"calls.copy"', '"../calls.copy"'), id="path"),
    ],
)
def test_a_damaged_manifest_is_refused(export_dir: Path, target_url: str, damage: object) -> None:
    path = export_dir / "manifest.json"
    assert callable(damage)
    path.write_text(damage(path.read_text()))
    result = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(result, 1, "manifest.json is damaged")
    assert leftovers(target_url) == (False, 0)


def test_importing_a_backup_the_database_already_has_is_refused(export_dir: Path, target_url: str) -> None:
    first = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert first.returncode == 0, first.stderr
    again = run_cli(["backups", "import", str(export_dir)], database_url=target_url)
    assert_refused(again, 1, "already has a backup", export_dir.name)
    with psycopg.connect(target_url, autocommit=True) as conn:
        assert [b.backup_id for b in list_backups(conn)] == [export_dir.name]


def test_an_export_never_overwrites_and_an_unknown_backup_is_a_usage_error(
    v1_database_url: str, export_dir: Path
) -> None:
    again = run_cli(
        ["backups", "export", export_dir.name, "--to", str(export_dir.parent)], database_url=v1_database_url
    )
    assert_refused(again, 2, "already exists")
    assert sorted(p.name for p in export_dir.parent.iterdir()) == [export_dir.name], "no partial export left"
    fresh = export_dir.parent.parent / "fresh"
    unknown = run_cli(["backups", "export", "backup_20000101_000000", "--to", str(fresh)],
                      database_url=v1_database_url)  # fmt: skip
    assert_refused(unknown, 2, "there is no backup backup_20000101_000000")
    assert not fresh.exists(), "nothing is written for a backup that does not exist"


def test_a_backup_damaged_inside_the_database_is_not_exported(v1_database_url: str, tmp_path: Path) -> None:
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=1, configs=3, calls=5))
        backup_id = create_backup(conn).backup_id
        conn.execute(
            sql.SQL("UPDATE {} SET prompt = 'tampered'").format(
                sql.Identifier("voice_migration", f"{backup_id}_configs")
            )
        )
    result = run_cli(["backups", "export", backup_id, "--to", str(tmp_path)], database_url=v1_database_url)
    assert_refused(result, 1, "damaged inside the database")
    assert list(tmp_path.iterdir()) == []


def test_a_v2_backup_with_metrics_round_trips_into_another_v2_database(
    v1_database_url: str, head_database_url: str, tmp_path: Path
) -> None:
    """jsonb, text[], numeric and timestamptz columns, and the metrics table, come back with the same checksums."""
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=2, configs=10, calls=80))
    assert run_cli(["migrate", "--yes"], database_url=v1_database_url).returncode == 0
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        info = create_backup(conn)
        export = export_backup(conn, info.backup_id, tmp_path).path
    assert info.metrics_count and "metrics" in json.loads((export / "manifest.json").read_text())["counts"]
    result = run_cli(["backups", "import", str(export)], database_url=head_database_url)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        (imported,) = list_backups(conn)
    assert imported.checksums == info.checksums and imported.created_at == info.created_at
    assert (imported.kind, imported.alembic_revision) == (info.kind, info.alembic_revision)


def test_a_dry_run_with_backup_to_only_says_where_it_would_export(v1_database_url: str, tmp_path: Path) -> None:
    with psycopg.connect(v1_database_url, autocommit=True) as conn:
        seed_v1(conn, SeedSpec(tenants=1, configs=3, calls=5))
    result = run_cli(["migrate", "--dry-run", "--backup-to", str(tmp_path / "exports")], database_url=v1_database_url)
    assert result.returncode == 0, result.stderr
    assert f"would export the backup to {tmp_path / 'exports'}" in result.stdout
    assert not (tmp_path / "exports").exists()
