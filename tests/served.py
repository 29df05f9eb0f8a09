"""`feedbackql serve` as a subprocess on a free port, and a FerretDB a test can kill and bring
back on the same port: the real processes the fault-injection and slow-client tests need."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from feedbackql_server.database.ferretdb import build_ferretdb, ferretdb_command
from feedbackql_server.database.local import free_port
from feedbackql_server.database.postgres import postgres_server

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
    """FerretDB on an embedded PostgreSQL, started and killed by the test."""

    command: list[str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.1)
        raise AssertionError("FerretDB did not listen")

    def kill(self) -> None:
        """``kill -9``."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@contextlib.contextmanager
def killable_ferretdb(folder: Path) -> Iterator[FerretDB]:
    folder.mkdir(parents=True, exist_ok=True)
    failure: BaseException | None = None
    try:
        with postgres_server(folder / "postgres") as postgres:
            state = folder / "ferretdb-state"
            state.mkdir(exist_ok=True)
            port = free_port()
            server = FerretDB(ferretdb_command(build_ferretdb(), postgres.ferretdb_url(), state, port), port,
                              folder / "ferretdb.log")
            server.start()
            try:
                yield server
            except BaseException as exc:
                failure = exc
                raise
            finally:
                if server.process is not None and server.process.poll() is None:
                    server.process.terminate()
                    server.process.wait(timeout=10)
    except psutil.NoSuchProcess:
        # The wheel's clean-up cannot find a PostgreSQL the test killed; the test's own
        # failure, if any, is what counts.
        if failure is not None:
            raise failure from None
