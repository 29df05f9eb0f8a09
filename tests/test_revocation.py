"""Revoking access ends it at once, over sockets opened before the revocation too."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import Subscriber, live_server, subscriber, until_live

CHANGES = "subscription($id: ID!) { responseChanges(datasetId: $id) { recordId status } }"
SUBMIT = """mutation($r: ID!) { submitResponse(input: {recordId: $r, status: SUBMITTED,
  values: [{question: "completion", value: {text: "late"}}]}) { id } }"""
ROTATE = "mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }"
DELETE = "mutation($id: ID!) { deleteUser(id: $id) }"
REMOVE = "mutation($w: ID!, $u: ID!) { removeWorkspaceMember(workspaceId: $w, userId: $u) { id } }"


@contextlib.asynccontextmanager
async def replica(settings: Settings, registry: KindRegistry) -> AsyncIterator[tuple[str, GraphQLClient]]:
    config = settings.model_copy(update={"progress_interval_seconds": 0.05})
    with live_server(create_app(config, registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield url, GraphQLClient(http, OWNER_KEY)


async def setup(owner: GraphQLClient) -> dict[str, Any]:
    dataset_id = await h.sft_dataset(owner)
    await h.add_records(owner, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(3)])
    page = await owner(h.RECORDS, {"id": dataset_id, "first": 3})
    workspace_id = await h.workspace_of(owner, dataset_id)
    created = await owner(h.CREATE_USER, {"input": {"username": "ann", "role": "ANNOTATOR",
                                                    "workspaceIds": [workspace_id]}})
    return {"dataset": dataset_id, "workspace": workspace_id,
            "records": [e["node"]["id"] for e in page["records"]["edges"]],
            "user": created["createUser"]["user"]["id"], "key": created["createUser"]["apiKey"]}


async def closed_code(client: Subscriber) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        async with asyncio.timeout(10):
            while True:
                await client.connection.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def stream_is_live(client: Subscriber, owner: GraphQLClient, world: dict[str, Any]) -> None:
    await client.subscribe(CHANGES, {"id": world["dataset"]})
    annotator = owner.as_user(world["key"])
    await until_live([client], lambda: annotator(h.SUBMIT, {"input": {
        "recordId": world["records"][0], "status": "DRAFT",
        "values": [{"question": "completion", "value": {"text": "t"}}]}}))


@pytest.mark.parametrize("revocation", ["rotate", "delete", "remove"])
async def test_revocation_closes_open_sockets_at_once(
    settings: Settings, builtin_registry: KindRegistry, revocation: str
) -> None:
    async with replica(settings, builtin_registry) as (url, owner):
        world = await setup(owner)
        async with subscriber(url, world["key"]) as client:
            await stream_is_live(client, owner, world)
            if revocation == "rotate":
                await owner(ROTATE, {"id": world["user"]})
            elif revocation == "delete":
                await owner(DELETE, {"id": world["user"]})
            else:
                await owner(REMOVE, {"w": world["workspace"], "u": world["user"]})
            assert await closed_code(client) == 4403
        if revocation != "remove":
            with pytest.raises(ConnectionClosed) as refused:
                async with subscriber(url, world["key"]):
                    pass
            assert refused.value.rcvd is not None
            assert refused.value.rcvd.code == 4403
        responses = await owner("query($id: ID!) { record(id: $id) { responses { status } } }",
                                {"id": world["records"][1]})
        assert responses["record"]["responses"] == []


async def test_a_revocation_through_another_replica_ends_the_socket_too(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    """No in-process signal reaches this replica: each operation and each event re-checks."""
    async with replica(settings, builtin_registry) as (url, owner), \
            replica(settings, builtin_registry) as (_other_url, other_owner):
        world = await setup(owner)
        async with subscriber(url, world["key"]) as client:
            await stream_is_live(client, owner, world)
            await other_owner(DELETE, {"id": world["user"]})
            await client.send({"id": "late", "type": "subscribe",
                               "payload": {"query": SUBMIT, "variables": {"r": world["records"][1]}}})
            assert await closed_code(client) == 4403
        record = await owner("query($id: ID!) { record(id: $id) { responses { status } } }",
                             {"id": world["records"][1]})
        assert record["record"]["responses"] == []


async def test_operations_over_one_socket_are_rate_limited(settings: Settings, builtin_registry: KindRegistry) -> None:
    limited = settings.model_copy(update={"rate_limit_per_second": 0.5, "rate_limit_burst": 3})
    with live_server(create_app(limited, builtin_registry)) as url:
        async with subscriber(url, OWNER_KEY) as client:
            for i in range(10):
                await client.send({"id": f"q{i}", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
            codes = []
            while len(codes) < 10:
                message = await client.receive()
                if message["type"] == "error":
                    codes.append(message["payload"][0]["extensions"]["code"])
                elif message["type"] == "next":
                    codes.append("OK")
            assert codes.count("OK") == 3
            assert codes.count("RATE_LIMITED") == 7


async def test_a_null_connection_payload_is_a_missing_key(settings: Settings, builtin_registry: KindRegistry) -> None:
    from websockets.asyncio.client import connect

    with live_server(create_app(settings, builtin_registry)) as url:
        async with connect(url.replace("http://", "ws://") + "/graphql",
                           subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
            await connection.send('{"type": "connection_init", "payload": null}')
            with pytest.raises(ConnectionClosed) as closed:
                await connection.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403


REVOKE = {"rotate": (ROTATE, lambda w: {"id": w["user"]}), "delete": (DELETE, lambda w: {"id": w["user"]}),
          "remove": (REMOVE, lambda w: {"w": w["workspace"], "u": w["user"]})}
VERSIONS = "query($id: ID!) { record(id: $id) { responses { version } } }"


def _draft(record_id: str, text: str) -> dict[str, Any]:
    return {"input": {"recordId": record_id, "status": "DRAFT",
                      "values": [{"question": "completion", "value": {"text": text}}]}}


@pytest.mark.parametrize("revocation", ["rotate", "delete", "remove"])
async def test_nothing_is_accepted_after_the_revocation_is_acknowledged(
    settings: Settings, builtin_registry: KindRegistry, revocation: str
) -> None:
    """Writes over HTTP and over a socket are in flight when the revocation lands: each one
    sent after the owner's answer is refused, and no write goes unreported."""
    async with replica(settings, builtin_registry) as (url, owner):
        world = await setup(owner)
        annotator = owner.as_user(world["key"])
        acknowledged: list[float] = []
        accepted = {"before": 0, "after": 0}
        stop, flowing = asyncio.Event(), asyncio.Event()
        unanswered: list[float] = []

        def count(sent: float) -> None:
            accepted["after" if acknowledged and sent > acknowledged[0] else "before"] += 1
            if accepted["before"] >= 10:
                flowing.set()

        async def over_http(worker: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                sent = time.monotonic()
                body = await annotator.raw(h.SUBMIT, _draft(world["records"][worker % 3], f"http {worker}/{n}"))
                if "errors" not in body:
                    count(sent)

        async def over_socket(client: Subscriber) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                sent = time.monotonic()
                try:
                    await client.send({"id": f"w{n}", "type": "subscribe", "payload": {
                        "query": h.SUBMIT, "variables": _draft(world["records"][n % 3], f"ws {n}")}})
                    while True:
                        message = await client.receive()
                        if message.get("id") == f"w{n}" and message["type"] in ("next", "error"):
                            break
                except ConnectionClosed:
                    # The revocation closed the socket: an operation sent before it may have
                    # been carried out without its answer getting through.
                    unanswered.append(sent)
                    return
                if message["type"] == "next" and not message["payload"].get("errors"):
                    count(sent)

        async with subscriber(url, world["key"]) as client:
            flood = asyncio.gather(*(over_http(i) for i in range(4)), over_socket(client))
            await asyncio.wait_for(flowing.wait(), timeout=30)
            query, variables = REVOKE[revocation]
            await owner(query, variables(world))
            acknowledged.append(time.monotonic())
            await asyncio.sleep(1.0)
            stop.set()
            await flood
        assert accepted["after"] == 0, accepted
        if revocation != "delete":  # a deleted user's responses may go with them
            versions = [r["version"] for record_id in world["records"]
                        for r in (await owner(VERSIONS, {"id": record_id}))["record"]["responses"]]
            in_flight = sum(1 for sent in unanswered if sent < acknowledged[0])
            assert accepted["before"] <= sum(versions) <= accepted["before"] + in_flight, (versions, accepted)
