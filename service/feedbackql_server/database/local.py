"""The embedded default database: ``mongod`` on PATH, else FerretDB on an embedded PostgreSQL.

(``MONGODB_URI``, when set, is used instead of either: see ``cli.py``.) The servers run on
loopback (PostgreSQL on a Unix socket only) with their data under the given folder, and are
stopped when the context exits.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.ferretdb import build_ferretdb, ferretdb_command
from feedbackql_server.database.postgres import postgres_server

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def local_database(data_dir: Path, bin_dir: Path | None = None) -> Iterator[str]:
    """Run a local server for the duration of the context; yields its MongoDB URI."""
    data_dir.mkdir(parents=True, exist_ok=True)
    mongod = shutil.which("mongod")
    if mongod:
        folder = data_dir / "mongod"
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        with running([mongod, "--dbpath", str(folder), "--bind_ip", "127.0.0.1", "--port", str(port)],
                      port, data_dir):
            yield local_uri(port)
        return
    ferretdb = build_ferretdb(bin_dir)
    with postgres_server(data_dir / "postgres") as postgres:
        state = data_dir / "ferretdb-state"
        state.mkdir(parents=True, exist_ok=True)
        port = free_port()
        with running(ferretdb_command(ferretdb, postgres.ferretdb_url(), state, port), port, data_dir):
            yield local_uri(port)


def local_uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@contextlib.contextmanager
def running(command: list[str], port: int, data_dir: Path) -> Iterator[None]:
    """Run a server process on ``port`` for the duration of the context (its output in
    ``data_dir/server.log``)."""
    log_file = (data_dir / "server.log").open("ab")
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
