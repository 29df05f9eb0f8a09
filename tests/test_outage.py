"""While the database is down, requests are told UNAVAILABLE quickly; afterwards they work."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from feedbackql_server.database.local import local_database
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY, serve
from tests.served import killable_ferretdb


async def test_a_dead_database_is_unavailable_not_a_plain_500(
    tmp_path: Path, settings: Settings, builtin_registry: KindRegistry
) -> None:
    with killable_ferretdb(tmp_path / "db") as database:
        async with serve(settings.model_copy(update={"mongodb_uri": database.uri}), builtin_registry) as gql:
            assert await gql("{ me { username } }") == {"me": {"username": "owner"}}
            database.kill()
            started = time.monotonic()
            response = await gql.http.post("/graphql", json={"query": "{ me { username } }"},
                                           headers={"Authorization": f"Bearer {OWNER_KEY}"})
            assert time.monotonic() - started < 8
            assert response.status_code == 503
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            export = await gql.http.get("/datasets/000000000000000000000000/export",
                                        headers={"Authorization": f"Bearer {OWNER_KEY}"})
            assert export.status_code == 503
            assert export.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


async def test_a_dead_postgresql_under_ferretdb_is_unavailable_too(
    tmp_path: Path, settings: Settings, builtin_registry: KindRegistry
) -> None:
    """FerretDB stays up and answers InternalError naming the lost connection: that is the
    database being unavailable, not an internal error (it was a plain-text 500)."""
    with killable_ferretdb(tmp_path / "db", restart_postgresql=False) as database:
        async with serve(settings.model_copy(update={"mongodb_uri": database.uri}), builtin_registry) as gql:
            assert await gql("{ me { username } }") == {"me": {"username": "owner"}}
            postmaster = int((tmp_path / "db" / "postgres" / "postmaster.pid").read_text().split()[0])
            os.kill(postmaster, signal.SIGKILL)
            auth = {"Authorization": f"Bearer {OWNER_KEY}"}
            deadline = time.monotonic() + 10
            while True:  # FerretDB's open connection may serve a last query before it notices
                response = await gql.http.post("/graphql", json={"query": "{ me { username } }"}, headers=auth)
                if response.status_code != 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            export = await gql.http.get("/datasets/000000000000000000000000/export", headers=auth)
            for answer in (response, export):
                assert answer.status_code == 503, answer.text
                assert answer.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


def _child(name: str, folder: Path) -> psutil.Process:
    """The database process ``name`` on ``folder`` that this test process supervises."""
    found = [child for child in psutil.Process().children()
             if child.name() == name and str(folder) in " ".join(child.cmdline())]
    assert len(found) == 1, found
    return found[0]


async def _until_healthy(http: httpx.AsyncClient, seconds: float) -> float:
    started = time.monotonic()
    while (await http.get("/healthz")).status_code != 200:
        assert time.monotonic() - started < seconds, "/healthz did not come back"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


@pytest.mark.faults
async def test_health_comes_back_by_itself_after_kill_9_of_either_database_process(
    tmp_path: Path, settings: Settings, builtin_registry: KindRegistry
) -> None:
    """FerretDB and PostgreSQL are supervised: killed, each is started again, and /healthz and
    requests answer again without restarting the service (they stayed 503 until a restart)."""
    with local_database(tmp_path / "db") as uri:
        async with serve(settings.model_copy(update={"mongodb_uri": uri}), builtin_registry) as gql:
            assert (await gql.http.get("/healthz")).status_code == 200
            for name in ("ferretdb", "postgres"):
                killed = _child(name, tmp_path)
                killed.kill()
                killed.wait(5)
                await _until_healthy(gql.http, 30)
                assert _child(name, tmp_path).pid != killed.pid
                assert await gql("{ me { username } }") == {"me": {"username": "owner"}}
