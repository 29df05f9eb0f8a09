"""The embedded default database: MONGODB_URI, else ``mongod`` on PATH, else FerretDB.

The server is started on a free loopback port with its data in the given folder and is
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

from feedbackql.database.ferretdb import DatabaseUnavailable, build_ferretdb

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(data_dir: Path, port: int, bin_dir: Path | None = None) -> list[str]:
    """The command line of the local server to run: real MongoDB if present, else FerretDB."""
    mongod = shutil.which("mongod")
    if mongod:
        folder = data_dir / "mongod"
        folder.mkdir(parents=True, exist_ok=True)
        return [mongod, "--dbpath", str(folder), "--bind_ip", "127.0.0.1", "--port", str(port)]
    ferretdb = build_ferretdb(bin_dir)
    folder = data_dir / "ferretdb"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        str(ferretdb), "--handler=sqlite", f"--sqlite-url=file:{folder}/",
        f"--listen-addr=127.0.0.1:{port}", "--telemetry=disable", "--debug-addr=-",
        "--log-level=warn",
    ]


@contextlib.contextmanager
def local_database(data_dir: Path, bin_dir: Path | None = None) -> Iterator[str]:
    """Run a local server for the duration of the context; yields its MongoDB URI."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = server_command(data_dir, port, bin_dir)
    log_file = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(process, port, data_dir)
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
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
