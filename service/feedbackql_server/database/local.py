"""The embedded default database: ``mongod`` on PATH, else FerretDB on an embedded PostgreSQL.

(``MONGODB_URI``, when set, is used instead of either: see ``cli.py``.) The data folder is
locked first (``lock.py``: one service per folder), then made private (``private.py``); stale
children of a crashed service are stopped (``children.py``); PostgreSQL and FerretDB then run
as supervised children, reachable only through Unix sockets in 0700 folders, their logs
rotated under ``logs/``. Everything stops when the context exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from feedbackql_server.database.children import ChildSpec, Records, supervised
from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.ferretdb import build_ferretdb, ferretdb_command, scrub_log_line, socket_uri
from feedbackql_server.database.lock import data_dir_lock
from feedbackql_server.database.postgres import postgres_server
from feedbackql_server.database.private import data_dir as private_data_dir
from feedbackql_server.database.private import database_account, private_dir, socket_dir
from feedbackql_server.database.processes import running_with, terminate

STARTUP_SECONDS = 30
log = logging.getLogger("feedbackql_server.database")
LEGACY_LOG = "server.log"
"""Where earlier versions wrote FerretDB's output, world-readable: made private at start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def local_database(data_dir: Path, bin_dir: Path | None = None) -> Iterator[str]:
    """Run a local server for the duration of the context; yields its MongoDB URI."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with data_dir_lock(data_dir):
        legacy = data_dir / LEGACY_LOG
        if legacy.exists():
            legacy.chmod(0o600)
        private_dir(data_dir / "logs")
        mongod = shutil.which("mongod")
        if mongod:
            private_dir(data_dir)
            with _mongod(mongod, data_dir) as uri:
                yield uri
            return
        ferretdb = build_ferretdb(bin_dir)
        private_data_dir(data_dir, database_account())
        with _ferretdb(ferretdb, data_dir) as uri:
            yield uri


@contextlib.contextmanager
def _ferretdb(binary: Path, data_dir: Path) -> Iterator[str]:
    run, logs = private_dir(data_dir / "run"), private_dir(data_dir / "logs")
    records = Records(run / "children.json")
    records.stop_leftovers()
    state = private_dir(data_dir / "ferretdb-state")
    _stop_stray_ferretdb(state)
    with postgres_server(data_dir / "postgres", records, logs / "postgresql.log") as postgres:
        sock = socket_dir(run / "ferretdb") / "ferretdb.sock"
        command = ferretdb_command(binary, postgres.ferretdb_url(), state, sock)
        with supervised(ferretdb_spec("ferretdb", command, sock, logs / "ferretdb.log"), records):
            yield socket_uri(sock)


def _stop_stray_ferretdb(state: Path) -> None:
    """Stop a FerretDB of this data folder that no record names: one an earlier version left
    running as an orphan, on TCP, after its service was killed (its ``--state-dir`` is ours)."""
    for stray in running_with(f"--state-dir={state}"):
        if Path(stray.cmdline[0]).name == "ferretdb":
            log.warning("stopping FerretDB (PID %d) left running on %s", stray.pid, state.parent)
            terminate(stray)


def ferretdb_spec(name: str, command: list[str], sock: Path, log_file: Path) -> ChildSpec:
    """A FerretDB child on ``sock``; a socket file left by a killed one is removed before each
    start (FerretDB refuses to start with "bind: address already in use"; the folder lock says
    the file is no live server's)."""
    return ChildSpec(name, command, log_file, ready=lambda pid: accepts(sock),
                     prepare=lambda: sock.unlink(missing_ok=True), scrub=scrub_log_line)


def accepts(path: Path) -> bool:
    """Whether a server accepts connections on the Unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


@contextlib.contextmanager
def _mongod(mongod: str, data_dir: Path) -> Iterator[str]:
    folder = private_dir(data_dir / "mongod")
    port = free_port()
    with running([mongod, "--dbpath", str(folder), "--bind_ip", "127.0.0.1", "--port", str(port)], port, data_dir):
        yield local_uri(port)


def local_uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@contextlib.contextmanager
def running(command: list[str], port: int, data_dir: Path) -> Iterator[None]:
    """Run a server process on ``port`` for the duration of the context (its output in
    ``data_dir/server.log``)."""
    log_file = os.fdopen(os.open(data_dir / LEGACY_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(process, port, data_dir)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def _wait_for_port(process: subprocess.Popen[bytes], port: int, data_dir: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DatabaseUnavailable(
                f"the database server exited at start (code {process.returncode}); "
                f"see {data_dir / 'server.log'}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    process.kill()
    raise DatabaseUnavailable(f"the database server did not listen within {STARTUP_SECONDS}s")
