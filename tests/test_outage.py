"""While the database is down, requests are told UNAVAILABLE quickly; afterwards they work."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import psutil

from feedbackql_server.database.local import local_database
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY, serve
from tests.served import killable_ferretdb


def _ferretdb_on(uri: str) -> psutil.Process:
    port = int(uri.split(":")[2].split("/")[0])
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "ferretdb" and any(
                c.laddr.port == port for c in process.net_connections(kind="tcp") if c.status == "LISTEN"):
            return process
    raise AssertionError("no FerretDB listens there")


async def test_a_dead_database_is_unavailable_not_a_plain_500(
    tmp_path: Path, settings: Settings, builtin_registry: KindRegistry
) -> None:
    with local_database(tmp_path / "db") as uri:
        async with serve(settings.model_copy(update={"mongodb_uri": uri}), builtin_registry) as gql:
            assert await gql("{ me { username } }") == {"me": {"username": "owner"}}
            _ferretdb_on(uri).kill()
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
    with killable_ferretdb(tmp_path / "db") as database:
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
