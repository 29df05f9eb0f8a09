"""Issue 20: no query a caller can use to stall the service. Deadlines on WebSocket operations,
text search served by an index, and filters, sorts and counts that never scan a dataset."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import live_server, subscriber

PAGE = "query($id: ID!) { records(datasetId: $id, first: 100) { edges { node { id fields } } totalCount } }"
PROGRESS = "subscription($id: ID!) { datasetProgress(datasetId: $id) { total } }"


@pytest.fixture
async def hasty(settings: Settings, builtin_registry: KindRegistry) -> AsyncIterator[tuple[str, str]]:
    """A served app whose request deadline is far shorter than any page read, and a dataset."""
    config = settings.model_copy(update={"request_timeout_seconds": 0.002})
    with live_server(create_app(settings, builtin_registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            owner = GraphQLClient(http, OWNER_KEY)
            dataset_id = await h.sft_dataset(owner)
            await h.add_records(owner, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(50)])
    with live_server(create_app(config, builtin_registry)) as url:
        yield url, dataset_id


async def test_a_websocket_query_has_the_request_deadline(hasty: tuple[str, str]) -> None:
    """Issue 20: the 30 s timeout covered only HTTP; ten aliased searches ran 119 s on a socket."""
    url, dataset_id = hasty
    async with subscriber(url, OWNER_KEY) as client:
        operation_id = await client.subscribe(PAGE, {"id": dataset_id})
        message = await client.receive()
    assert message["id"] == operation_id
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "TIMEOUT"
    assert "longer than" in message["payload"][0]["message"]


async def test_a_subscription_outlives_the_request_deadline(hasty: tuple[str, str]) -> None:
    url, dataset_id = hasty
    async with subscriber(url, OWNER_KEY) as client:
        operation_id = await client.subscribe(PROGRESS, {"id": dataset_id})
        message = await client.receive()
    assert (message["id"], message["type"]) == (operation_id, "next"), message
    assert message["payload"]["data"]["datasetProgress"]["total"] == 50


async def test_an_anonymous_chunked_body_is_bounded_by_the_bytes_read(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """Issue 20: the 64 KiB anonymous cap checked only Content-Length; a chunked body has none."""
    body = json.dumps({"query": "{ me { id } }", "variables": {"pad": "x" * 200_000}}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start:start + 16_384]

    with live_server(create_app(settings, builtin_registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            anonymous = await http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
            owner = await http.post("/graphql", content=chunks(), headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {OWNER_KEY}"})
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization" in anonymous.json()["errors"][0]["message"]
    assert owner.status_code == 200
    assert owner.json()["data"]["me"]["id"]
