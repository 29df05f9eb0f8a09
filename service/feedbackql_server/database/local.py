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
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from feedbackql_server.database.children import ChildSpec, Records, supervised
from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.ferretdb import build_ferretdb, ferretdb_command, scrub_log_line, socket_uri
from feedbackql_server.database.lock import data_dir_lock
from feedbackql_server.database.postgres import postgres_server
from feedbackql_server.database.private import data_dir as private_data_dir
from feedbackql_server.database.private import database_account, private_dir, socket_dir
from feedbackql_server.database.processes import running_with, tcp_listening_ports, terminate

log = logging.getLogger("feedbackql_server.database")
MONGOD_SOCKET = "mongod.sock"
MONGOD_PORT = 27017
"""Only names mongod's second socket (``mongodb-27017.sock``): no TCP port is opened."""
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
    """``mongod`` as a supervised child on a Unix socket in the private run folder, as FerretDB
    is. Should it listen on TCP all the same (without authentication, any local user would own
    it), it is stopped and the start refused."""
    run, logs = private_dir(data_dir / "run"), private_dir(data_dir / "logs")
    records = Records(run / "children.json")
    records.stop_leftovers()
    sock = socket_dir(run / "mongod") / MONGOD_SOCKET
    command = mongod_command(mongod, private_dir(data_dir / "mongod"), sock)
    spec = ChildSpec("mongod", command, logs / "mongod.log", ready=lambda pid: accepts(sock),
                     prepare=lambda: sock.unlink(missing_ok=True))
    with supervised(spec, records) as child:
        refuse_tcp(mongod, child.process.pid if child.process is not None else None)
        yield socket_uri(sock)


def mongod_command(binary: str, dbpath: Path, sock: Path) -> list[str]:
    """``mongod`` on the Unix socket ``sock`` only. ``--bind_ip`` given a socket path and no
    address opens no TCP listener; the socket mongod opens besides (``mongodb-PORT.sock``, in
    /tmp by default) goes into the same private folder (``--unixSocketPrefix``); both of mode
    0700 (``--filePermissions``)."""
    return [binary, "--dbpath", str(dbpath), "--bind_ip", str(sock), "--unixSocketPrefix", str(sock.parent),
            "--filePermissions", "0700", "--port", str(MONGOD_PORT)]


def refuse_tcp(mongod: str, pid: int | None) -> None:
    """``DatabaseUnavailable`` when the process listens on TCP, with what to do instead."""
    ports = tcp_listening_ports(pid) if pid is not None else []
    if ports:
        raise DatabaseUnavailable(
            f"{mongod} (found on PATH) listens on TCP port {', '.join(map(str, ports))} although told to use "
            "a Unix socket only; without authentication any local user could read and change its data, so "
            "it was stopped. Set MONGODB_URI to a MongoDB server with authentication, or take mongod off "
            "PATH to use the embedded FerretDB")
