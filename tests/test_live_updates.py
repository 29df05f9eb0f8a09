"""Subscriptions over a real websocket (graphql-transport-ws) to a real uvicorn server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import Subscriber, live_server, subscriber, until_live

PROGRESS = """subscription($id: ID!) { datasetProgress(datasetId: $id) {
  completed pending responses { submitted draft } } }"""
CHANGES = "subscription($id: ID!) { responseChanges(datasetId: $id) { recordId status deleted version } }"


@pytest.fixture
async def live(settings: Settings, builtin_registry: KindRegistry) -> AsyncIterator[tuple[str, GraphQLClient]]:
    config = settings.model_copy(update={"progress_interval_seconds": 0.05,
                                         "max_subscriptions_per_connection": 3})
    with live_server(create_app(config, builtin_registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield url, GraphQLClient(http, OWNER_KEY)


def submit(record_id: str, status: str = "SUBMITTED") -> dict[str, object]:
    return {"input": {"recordId": record_id, "status": status,
                      "values": [{"question": "completion", "value": {"text": "t"}}]}}


async def test_progress_arrives_as_answers_are_submitted(live: tuple[str, GraphQLClient]) -> None:
    url, owner = live
    dataset_id = await h.sft_dataset(owner)
    await h.add_records(owner, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(3)])
    page = await owner(h.RECORDS, {"id": dataset_id, "first": 3})
    record_ids = [e["node"]["id"] for e in page["records"]["edges"]]
    annotator = await h.new_user(owner, "ann", workspaces=[await h.workspace_of(owner, dataset_id)])

    async with subscriber(url, annotator.api_key) as client:
        await client.subscribe(PROGRESS, {"id": dataset_id})
        first = await client.receive()
        assert first["payload"]["data"]["datasetProgress"] == {
            "completed": 0, "pending": 3, "responses": {"submitted": 0, "draft": 0}}
        seen = []
        for record_id in record_ids:
            await annotator(h.SUBMIT, submit(record_id))
            message = await client.receive()
            assert message["type"] == "next"
            seen.append(message["payload"]["data"]["datasetProgress"]["completed"])
        # Snapshots are coalesced, never out of order, and reach the final state.
        assert seen == sorted(seen)
        assert seen[-1] == 3


async def test_response_changes_reach_admins_and_only_their_own_reach_annotators(
    live: tuple[str, GraphQLClient],
) -> None:
    url, owner = live
    dataset_id = await h.sft_dataset(owner)
    await h.add_records(owner, dataset_id, [{"externalId": name, "fields": {"prompt": name}} for name in ("probe", "main")])
    edges = (await owner(h.RECORDS, {"id": dataset_id, "first": 2}))["records"]["edges"]
    probe, record_id = (e["node"]["id"] for e in edges)
    ws = await h.workspace_of(owner, dataset_id)
    ann, bob = [await h.new_user(owner, name, workspaces=[ws]) for name in ("ann", "bob")]
    admin = await h.new_user(owner, "boss", role="ADMIN", workspaces=[ws])

    async with subscriber(url, admin.api_key) as admin_live, subscriber(url, ann.api_key) as ann_live:
        await admin_live.subscribe(CHANGES, {"id": dataset_id})
        await ann_live.subscribe(CHANGES, {"id": dataset_id})
        await until_live([admin_live, ann_live], lambda: ann(h.SUBMIT, submit(probe, "DRAFT")))
        await bob(h.SUBMIT, submit(record_id, "DRAFT"))
        await ann(h.SUBMIT, submit(record_id))
        await ann("mutation($id: ID!) { deleteResponse(recordId: $id) }", {"id": record_id})
        admin_events = await events_about(admin_live, record_id, 3)
        assert [(e["status"], e["deleted"]) for e in admin_events] == [
            ("DRAFT", False), ("SUBMITTED", False), (None, True)]
        ann_events = await events_about(ann_live, record_id, 2)
        assert [(e["status"], e["version"]) for e in ann_events] == [("SUBMITTED", 1), (None, 2)]


async def events_about(live: Subscriber, record_id: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` events about the record, skipping the probes."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        event = (await live.receive())["payload"]["data"]["responseChanges"]
        if event["recordId"] == record_id:
            events.append(event)
    return events


async def test_subscriptions_per_connection_are_capped(live: tuple[str, GraphQLClient]) -> None:
    url, owner = live
    dataset_id = await h.sft_dataset(owner)
    async with subscriber(url, OWNER_KEY) as client:
        for _ in range(3):
            await client.subscribe(CHANGES, {"id": dataset_id})
        over = await client.subscribe(CHANGES, {"id": dataset_id})
        message = await client.receive()
        assert message["id"] == over
        assert message["type"] == "error"
        assert "limit" in str(message["payload"]).lower()


async def test_websockets_from_allowed_origins_are_accepted(settings: Settings, builtin_registry: KindRegistry) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    config = settings.model_copy(update={"cors_allow_origins": ["http://ui.example"]})
    with live_server(create_app(config, builtin_registry)) as url:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        async with connect(ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                           origin="http://ui.example") as connection:  # type: ignore[arg-type]
            client = Subscriber(connection)
            await client.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {OWNER_KEY}"}})
            assert (await client.receive())["type"] == "connection_ack"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                               origin="http://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
