"""`feedbackql serve` end to end: embedded database, health, restart persistence, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from feedbackql_server.database.local import free_port
from tests import helpers as h

KEY = "serve-test-key"


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    # A database of its own, in case MONGODB_URI points at a server that outlives the test.
    env = {**os.environ, "FEEDBACKQL_OWNER_API_KEY": KEY,
           "FEEDBACKQL_DATABASE_NAME": f"fqltest_serve_{data_dir.name}"}
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "service.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "feedbackql_server", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )


def _wait_healthy(process: subprocess.Popen[bytes], port: int, data_dir: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, (data_dir / "service.log").read_text()
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        assert response.json() == {"status": "ok", "database": True}
        return
    pytest.fail("the service did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def _servers_using(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line and "ferretdb" in line]


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    return tmp_path / uuid.uuid4().hex[:12]


def _gql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    body: dict[str, Any] = response.json()
    return body


def _answered_record(port: int) -> str:
    """A published dataset with one record answered by the owner; the record's id."""
    ws = _gql(port, h.CREATE_WORKSPACE, {"n": "kept"})["data"]["createWorkspace"]["id"]
    spec = {"workspaceId": ws, "name": "sft", "fields": [{"name": "prompt", "settings": h.TEXT}],
            "questions": [{"name": "completion", "settings": {"text": {}}}]}
    dataset = _gql(port, h.CREATE_DATASET, {"input": spec})["data"]["createDataset"]["id"]
    _gql(port, h.PUBLISH, {"id": dataset})
    _gql(port, h.ADD_RECORDS, {"id": dataset, "records": [{"fields": {"prompt": "p"}}]})
    page = _gql(port, h.RECORDS, {"id": dataset, "first": 1})["data"]["records"]
    record_id: str = page["edges"][0]["node"]["id"]
    answer = {"recordId": record_id, "status": "SUBMITTED",
              "values": [{"question": "completion", "value": {"text": "kept answer"}}]}
    assert _gql(port, h.SUBMIT, {"input": answer})["data"]["submitResponse"]["status"] == "SUBMITTED"
    return record_id


def test_data_survives_a_restart_and_the_database_stops_with_the_service(service_dir: Path) -> None:
    port = free_port()
    process = _start(service_dir, port)
    try:
        _wait_healthy(process, port, service_dir)
        record_id = _answered_record(port)
    finally:
        _stop(process)
    assert _servers_using(service_dir) == []

    process = _start(service_dir, port)
    try:
        _wait_healthy(process, port, service_dir)
        assert _gql(port, "{ workspaces { name } }") == {"data": {"workspaces": [{"name": "kept"}]}}
        record = _gql(port, """query($id: ID!) { record(id: $id) { status
            responses { values { value { ... on TextValue { text } } } } } }""", {"id": record_id})
        assert record["data"]["record"] == {
            "status": "COMPLETED", "responses": [{"values": [{"value": {"text": "kept answer"}}]}]}
        get = httpx.get(f"http://127.0.0.1:{port}/graphql", params={"query": "{ me { id } }"},
                        headers={"Accept": "application/json"})
        assert get.status_code in (400, 405)
    finally:
        _stop(process)


def test_serve_says_what_to_do_without_any_database(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    env.update(PATH=str(Path(sys.executable).parent) + ":/usr/bin:/bin",
               FEEDBACKQL_BIN_DIR=str(tmp_path / "empty-bin"))
    result = subprocess.run(
        [sys.executable, "-m", "feedbackql_server", "serve", "--data-dir", str(tmp_path / "d")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert "set MONGODB_URI" in result.stderr
    assert "Traceback" not in result.stderr
