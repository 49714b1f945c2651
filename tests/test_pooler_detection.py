"""Transaction-mode poolers are refused with one line (issue #17, Supabase; voice_migration.infra.pooling).

The decision runs real SQL on real sessions: a direct connection keeps one backend and its settings;
two transactions served by two backends, or by a pooler that resets the session, do not. Where the
machine has PgBouncer (``apt-get install pgbouncer``), a real PgBouncer in each pool mode sits in front
of the test server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from tests.conftest import settings_for
from tests.helpers import run_cli
from voice_migration.infra.db import connect
from voice_migration.infra.errors import ConnectionFailed
from voice_migration.infra.pooling import mark_session, probe_session, read_session, refuse_transaction_pooler_url
from voice_migration.rollout.cache import CachedFlagCheck

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").is_file() else None)


def test_a_direct_connection_keeps_one_session(head_database_url: str) -> None:
    for autocommit in (False, True):
        with psycopg.connect(head_database_url, autocommit=autocommit) as conn:
            probe = probe_session(conn)
            assert probe.same_session and probe.describe() == ""
            # the probe leaves no setting behind
            assert conn.execute("SELECT current_setting('voice_migration.session_probe', true)").fetchone() == ("",)
    with connect(settings_for(head_database_url)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_two_transactions_on_two_backends_are_not_one_session(head_database_url: str) -> None:
    # What a transaction pooler does: the second transaction runs on another server backend.
    with psycopg.connect(head_database_url) as first, psycopg.connect(head_database_url) as second:
        pid, token = mark_session(first)
        probe = read_session(second, pid, token)
    assert not probe.same_session
    assert probe.first_pid != probe.second_pid and not probe.setting_kept
    assert "two server backends" in probe.describe()


def test_a_session_that_loses_its_settings_is_not_one_session(head_database_url: str) -> None:
    # What a pooler resetting each session does (PgBouncer's server_reset_query_always): same pid, setting gone.
    with psycopg.connect(head_database_url, autocommit=True) as conn:
        pid, token = mark_session(conn)
        conn.execute("DISCARD ALL")
        probe = read_session(conn, pid, token)
    assert probe.first_pid == probe.second_pid and not probe.same_session
    assert "did not survive the commit" in probe.describe()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        "postgresql://postgres:pw@db.abcdefgh.supabase.co:6543/postgres",
    ],
)
def test_supabase_transaction_pooler_port_is_refused_without_connecting(url: str) -> None:
    with pytest.raises(ConnectionFailed, match=r"transaction pooler \(port 6543\).*port 5432") as caught:
        refuse_transaction_pooler_url(url, "redacted")
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",  # session pooler
        "postgresql://postgres:pw@db.abcdefgh.supabase.co:5432/postgres",  # direct
        "postgresql://app:pw@db.example.com:6543/app",  # 6543 elsewhere: the session probe decides
    ],
)
def test_session_pooler_and_direct_urls_pass_the_url_check(url: str) -> None:
    refuse_transaction_pooler_url(url, "redacted")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def pgbouncer(head_database_url: str) -> Iterator[Callable[..., str]]:
    """``start(pool_mode, **settings)`` runs a PgBouncer in front of the test server and returns its URL."""
    if PGBOUNCER is None:
        pytest.skip("PgBouncer is not installed (apt-get install pgbouncer)")
    params = conninfo.conninfo_to_dict(head_database_url)
    if str(params.get("host", "")).startswith("/"):
        pytest.skip("the test server listens on a unix socket only")
    workdir = Path(tempfile.mkdtemp(prefix="vm-pgbouncer-"))
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    processes: list[subprocess.Popen[bytes]] = []

    def start(pool_mode: str, **settings: str) -> str:
        port = _free_port()
        extra = "".join(f"{key} = {value}\n" for key, value in settings.items())
        ini = workdir / f"{port}.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={params['host']} port={params['port']} user={params.get('user', 'postgres')}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            "auth_type = any\n"
            f"pool_mode = {pool_mode}\n{extra}"
            f"logfile = {workdir}/{port}.log\n"
        )
        command = [PGBOUNCER, str(ini)]
        if as_root:
            shutil.chown(workdir, user="postgres")
            shutil.chown(ini, user="postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        url = f"postgresql://{params.get('user', 'postgres')}@127.0.0.1:{port}/{params['dbname']}"
        deadline = time.monotonic() + 10
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                return url
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


def test_pgbouncer_in_session_mode_is_accepted(pgbouncer: Callable[..., str]) -> None:
    url = pgbouncer("session")
    with connect(settings_for(url)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_pgbouncer_in_transaction_mode_handing_out_other_backends_is_refused(pgbouncer: Callable[..., str]) -> None:
    url = pgbouncer("transaction", server_round_robin="1", min_pool_size="2", default_pool_size="2")
    # Two transactions held at once make PgBouncer open its two server connections.
    with psycopg.connect(url) as a, psycopg.connect(url) as b:
        a.execute("SELECT 1")
        b.execute("SELECT 1")
    with pytest.raises(ConnectionFailed, match=r"two server backends.*port 5432"):
        connect(settings_for(url))


def test_pgbouncer_in_transaction_mode_resetting_sessions_is_refused_by_the_cli(pgbouncer: Callable[..., str]) -> None:
    url = pgbouncer("transaction", server_reset_query_always="1")
    result = run_cli(["rollout", "status"], database_url=url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "transaction-mode pooler" in lines[0] and "port 5432" in lines[0]
    assert "Traceback" not in result.stderr


def test_the_flag_cache_without_listen_may_use_a_transaction_pooler(pgbouncer: Callable[..., str]) -> None:
    # listen=False keeps nothing in the session (TTL only): the one caller a transaction pooler is fine for.
    url = pgbouncer("transaction", server_reset_query_always="1")
    with CachedFlagCheck(settings_for(url), ttl=60, listen=False, startup_timeout=10) as cache:
        assert cache.snapshot is not None
        assert cache.is_enabled("tenant-1") is False  # flags installed off
