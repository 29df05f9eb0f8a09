"""`feedbackql serve` as a subprocess on a free port, and a FerretDB a test can kill and bring
back on the same port: the real processes the fault-injection and slow-client tests need."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from feedbackql_server.database.children import Records
from feedbackql_server.database.ferretdb import build_ferretdb, ferretdb_command, socket_uri
from feedbackql_server.database.local import accepts, free_port
from feedbackql_server.database.postgres import postgres_server
from feedbackql_server.database.private import private_dir, socket_dir

KEY = "served-test-key"
START_SECONDS = 90


@dataclass
class Service:
    """A running `feedbackql serve`; ``start``/``kill`` restart it on the same port."""

    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "service.log"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "feedbackql_server", "serve", "--port", str(self.port),
                 "--data-dir", str(self.folder / "data")],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_healthy()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the service did not become healthy:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def service(folder: Path, mongodb_uri: str | None = None, **settings: Any) -> Iterator[Service]:
    """`feedbackql serve` with ``FEEDBACKQL_<NAME>`` settings, on ``mongodb_uri`` (else its own
    embedded database in ``folder``) and a database of its own."""
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    env.update({"FEEDBACKQL_OWNER_API_KEY": KEY, "FEEDBACKQL_DATABASE_NAME": f"fqltest_served_{uuid.uuid4().hex[:10]}",
                "FEEDBACKQL_RATE_LIMIT_PER_SECOND": "0"})
    env.update({f"FEEDBACKQL_{name.upper()}": str(value) for name, value in settings.items()})
    if mongodb_uri:
        env["MONGODB_URI"] = mongodb_uri
    running = Service(folder, env)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class FerretDB:
    """FerretDB on an embedded PostgreSQL, started and killed by the test (not supervised)."""

    command: list[str]
    socket: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return socket_uri(self.socket)

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            if accepts(self.socket):
                return
            time.sleep(0.1)
        raise AssertionError("FerretDB did not listen")

    def kill(self) -> None:
        """``kill -9``."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@contextlib.contextmanager
def killable_ferretdb(folder: Path, restart_postgresql: bool = True) -> Iterator[FerretDB]:
    """FerretDB for a test to kill, on a PostgreSQL in ``folder`` (supervised: restarted if it
    dies, unless ``restart_postgresql`` is false)."""
    folder.mkdir(parents=True, exist_ok=True)
    run = private_dir(folder / "run")
    with postgres_server(folder / "postgres", Records(run / "children.json"), folder / "postgresql.log",
                         restart_postgresql) as postgres:
        state = private_dir(folder / "ferretdb-state")
        sock = socket_dir(run / "ferretdb") / "ferretdb.sock"
        server = FerretDB(ferretdb_command(build_ferretdb(), postgres.ferretdb_url(), state, sock), sock,
                          folder / "ferretdb.log")
        server.start()
        try:
            yield server
        finally:
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
                server.process.wait(timeout=10)
