"""The embedded database is the service's alone (issue 20, item 1), against real processes:
another local user reaches neither its sockets nor its files, logs are private and hold no key
material, one service per data folder, and no database process outlives a killed service."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from feedbackql_server.database.ferretdb import find_ferretdb
from feedbackql_server.database.local import free_port
from tests import helpers as h
from tests.served import KEY, Service, service

pytestmark = [pytest.mark.heavy, pytest.mark.faults,
              pytest.mark.skipif(find_ferretdb() is None or bool(os.environ.get("MONGODB_URI")),
                                 reason="needs the embedded FerretDB (scripts/bootstrap builds it), no MONGODB_URI")]
OTHER_USER = "fqltest_other"
DATABASE_NAMES = ("ferretdb", "postgres")
SYSTEM_PYTHON = "/usr/bin/python3"
"""What the other user runs (the test's own interpreter may live where that user cannot go)."""


def _database_processes(folder: Path) -> list[psutil.Process]:
    """FerretDB and PostgreSQL processes whose command line names ``folder``."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] in DATABASE_NAMES and str(folder) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def _gql(served: Service, query: str, variables: dict[str, Any] | None = None, key: str = KEY) -> Any:
    response = httpx.post(f"{served.url}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return response.json()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with service(tmp_path_factory.mktemp("closed") / "service") as running:
        yield running


def _a_session_of_requests(served: Service) -> list[str]:
    """Users created, keys used, rotated and refused, a duplicate refused; the keys used."""
    created = _gql(served, h.CREATE_USER, {"input": {"username": "ann", "role": "ANNOTATOR",
                                                     "workspaceIds": []}})["data"]["createUser"]
    keys = [KEY, created["apiKey"]]
    assert _gql(served, "{ me { username } }", key=keys[1])["data"] == {"me": {"username": "ann"}}
    again = _gql(served, h.CREATE_USER, {"input": {"username": "ann", "role": "ANNOTATOR", "workspaceIds": []}})
    assert again["errors"]
    rotated = _gql(served, "mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }",
                   {"id": created["user"]["id"]})["data"]["rotateApiKey"]["apiKey"]
    keys.append(rotated)
    assert "errors" in _gql(served, "{ me { username } }", key=keys[1])  # the old key is refused
    assert _gql(served, "{ me { username } }", key=rotated)["data"] == {"me": {"username": "ann"}}
    _requests_through_a_database_restart(served, keys)
    return keys


def _requests_through_a_database_restart(served: Service, keys: list[str]) -> None:
    """Authenticated requests while PostgreSQL is killed and restarted: FerretDB logs the
    queries that fail, with their arguments (here: key hashes) unless they are scrubbed."""
    postgres = [process for process in _database_processes(served.folder) if process.name() == "postgres"]
    postgres[0].send_signal(signal.SIGKILL)  # a smart shutdown: queries in flight fail
    deadline, answered = time.monotonic() + 30, 0
    while time.monotonic() < deadline and answered < 5:
        for key in keys:
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.post(f"{served.url}/graphql", json={"query": "{ me { username } }"},
                                      headers={"Authorization": f"Bearer {key}"}, timeout=10)
                answered += response.status_code == 200


def test_logs_are_private_rotated_files_without_key_material(served: Service) -> None:
    keys = _a_session_of_requests(served)
    logs = served.folder / "data" / "logs"
    files = sorted(logs.iterdir())
    assert {path.name for path in files} >= {"service.log", "ferretdb.log", "postgresql.log"}
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    hashes = [hashlib.sha256(key.encode()).hexdigest() for key in keys]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        text = path.read_text(errors="replace")
        for key, digest in zip(keys, hashes, strict=True):
            assert key not in text, path
            assert digest[:10] not in text, (path, digest)
            assert digest[-10:] not in text, (path, digest)


def test_a_second_service_on_the_same_folder_is_refused_before_touching_the_database(served: Service) -> None:
    databases = {process.pid for process in _database_processes(served.folder)}
    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-m", "feedbackql_server", "serve", "--port", "0", "--data-dir", str(served.folder / "data")],
        env=served.env, capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == 1
    assert time.monotonic() - started < 15
    assert served.process is not None
    assert f"another feedbackql serve (PID {served.process.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert "migrat" not in second.stderr.lower()
    assert "repair" not in second.stderr.lower()
    assert {process.pid for process in _database_processes(served.folder)} == databases
    assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200


@pytest.fixture(scope="module")
def other_user() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("creating a second Unix user needs root; run as root to check another user is kept out")
    if shutil.which("useradd") is None or shutil.which("runuser") is None or not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"needs useradd, runuser and {SYSTEM_PYTHON} to act as a second Unix user")
    with contextlib.suppress(KeyError):
        pwd.getpwnam(OTHER_USER)
        subprocess.run(["userdel", OTHER_USER], check=True)  # left by an interrupted run
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER], check=True)
    try:
        yield OTHER_USER
    finally:
        subprocess.run(["userdel", OTHER_USER], check=True)


ATTEMPT = """
import json, os, socket, sys
folder, sockets = sys.argv[1], json.loads(sys.argv[2])
results = {}
for path in sockets:
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(path)
        results[path] = "connected"
    except OSError as error:
        results[path] = type(error).__name__
for root, dirs, files in os.walk(folder, onerror=lambda error: None):
    for name in files:
        try:
            open(os.path.join(root, name), "rb").read(1)
            results[os.path.join(root, name)] = "read"
        except OSError:
            pass
try:
    results["listing"] = sorted(os.listdir(folder))
except OSError as error:
    results["listing"] = type(error).__name__
print(json.dumps(results))
"""


def test_another_local_user_reaches_neither_the_database_nor_its_files(served: Service, other_user: str) -> None:
    data = served.folder / "data"
    databases = _database_processes(served.folder)
    assert {process.name() for process in databases} == set(DATABASE_NAMES)
    for process in databases:  # no TCP listener at all, on any address
        assert [c for c in process.net_connections(kind="inet") if c.status == "LISTEN"] == [], process
    sockets = [str(path) for path in data.rglob("*") if path.is_socket()] + \
              [str(path) for path in Path("/tmp").glob("feedbackql-*/*") if path.is_socket()]
    assert any(path.endswith("ferretdb.sock") for path in sockets)
    assert any(".s.PGSQL." in path for path in sockets)
    assert stat.S_IMODE(data.stat().st_mode) & 0o007 == 0
    attempt = subprocess.run(["runuser", "-u", other_user, "--", SYSTEM_PYTHON, "-c", ATTEMPT, str(data),
                              json.dumps(sockets)], capture_output=True, text=True, timeout=60,
                             check=False, cwd="/")
    assert attempt.returncode == 0, attempt.stderr
    results = json.loads(attempt.stdout)
    assert results.pop("listing") == "PermissionError"
    assert results == dict.fromkeys(sockets, "PermissionError")


def test_kill_9_of_the_service_leaves_no_database_process_and_a_restart_works(tmp_path: Path) -> None:
    with service(tmp_path / "service") as served:
        children = _database_processes(served.folder)
        assert {process.name() for process in children} == set(DATABASE_NAMES)
        served.kill()
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], [process.cmdline() for process in alive]
        served.start()  # the same data folder and port
        assert _gql(served, "{ me { username } }")["data"] == {"me": {"username": "owner"}}
        assert len(_database_processes(served.folder)) >= 2


def test_a_killed_ferretdb_is_restarted_without_restarting_the_service(served: Service) -> None:
    ferretdb = [process for process in _database_processes(served.folder) if process.name() == "ferretdb"]
    assert len(ferretdb) == 1
    ferretdb[0].send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        health = httpx.get(f"{served.url}/healthz", timeout=10)
        again = [process for process in _database_processes(served.folder) if process.name() == "ferretdb"]
        if health.status_code == 200 and again and again[0].pid != ferretdb[0].pid:
            break
        time.sleep(0.2)
    else:
        pytest.fail("FerretDB was not restarted, or /healthz did not come back")
    assert _gql(served, "{ me { username } }")["data"] == {"me": {"username": "owner"}}
    log = (served.folder / "data" / "logs" / "service.log").read_text()
    assert re.search(r"ferretdb \(PID \d+\) exited with code -9; starting it again", log)


def test_an_orphan_ferretdb_of_an_earlier_version_is_stopped_before_the_start(tmp_path: Path) -> None:
    """Earlier versions left FerretDB running on loopback TCP after kill -9 of the service; the
    next start then ran a second one on the same PostgreSQL."""
    binary = find_ferretdb()
    assert binary is not None
    state = tmp_path / "service" / "data" / "ferretdb-state"
    state.mkdir(parents=True)
    orphan = subprocess.Popen(
        [str(binary), "--handler=postgresql", "--postgresql-url=postgres://postgres@/ferretdb?host=/nonexistent",
         f"--listen-addr=127.0.0.1:{free_port()}", "--telemetry=disable", "--debug-addr=-", f"--state-dir={state}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.5)
        assert orphan.poll() is None
        with service(tmp_path / "service") as served:
            assert orphan.wait(15) is not None
            assert f"stopping FerretDB (PID {orphan.pid}) left running" in served.log.read_text()
            assert _gql(served, "{ me { username } }")["data"] == {"me": {"username": "owner"}}
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
