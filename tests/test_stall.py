"""Issue 20: no query a caller can use to stall the service. Deadlines on WebSocket operations,
text search served by an index, and filters, sorts and counts that never scan a dataset."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from pymongo import AsyncMongoClient, monitoring

from feedbackql_server.app import create_app
from feedbackql_server.domain import listing
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.rate_limits import RateLimits
from feedbackql_server.settings import Settings
from feedbackql_server.storage.paths import choose
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient, serve
from tests.live import Subscriber, live_server, subscriber
from tests.served import KEY as SERVED_KEY
from tests.served import service

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


class ReadsCounter(monitoring.CommandListener):
    """Counts the documents FerretDB reads for the record and response lookups an app sends.

    FerretDB 1.24 hands PostgreSQL only a filter's top-level equalities and reads every
    document they select (DESIGN.md, "Database"); each lookup is replayed here with just that
    part, on a client of its own, to count those documents. Registered globally (the app makes
    its own client in its lifespan), so it is switched off after its test."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.active = True
        self.filters: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.active or event.database_name != self.database:
            return
        command = event.command
        collection = command.get(event.command_name)
        if collection not in ("records", "responses"):
            return
        if event.command_name == "find":
            self.filters.append((collection, dict(command.get("filter", {}))))
        elif event.command_name == "aggregate":
            self.filters.extend((collection, dict(stage["$match"])) for stage in command["pipeline"][:1]
                                if "$match" in stage)
        elif event.command_name == "count":
            self.filters.append((collection, dict(command.get("query", {}))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    async def documents_read(self, mongodb_uri: str) -> int:
        """The documents the lookups recorded so far read; those of the replay are not recorded."""
        self.active = False
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
        try:
            total = 0
            for collection, where in self.filters:
                pushed = {key: value for key, value in where.items()
                          if not key.startswith("$") and not isinstance(value, dict | list)}
                total += await client[self.database][collection].count_documents(pushed)
            return total
        finally:
            await client.close()
            self.filters.clear()
            self.active = True


@pytest.fixture
async def counted(settings: Settings, builtin_registry: KindRegistry,
                  mongodb_uri: str) -> AsyncIterator[tuple[GraphQLClient, ReadsCounter]]:
    listener = ReadsCounter(settings.database_name)
    monitoring.register(listener)
    try:
        async with serve(settings, builtin_registry) as owner:
            yield owner, listener
    finally:
        listener.active = False


async def _dataset_of(owner: GraphQLClient, size: int, needle_at: int) -> str:
    dataset_id = await h.sft_dataset(owner, metadataProperties=[{"name": "n", "kind": "INTEGER"}])
    records = [{"externalId": f"r{i}", "metadata": {"n": i},
                "fields": {"prompt": "zzzzqqq marks this one" if i == needle_at else f"plain prompt {i}"}}
               for i in range(size)]
    for start in range(0, size, 500):
        await h.add_records(owner, dataset_id, records[start:start + 500])
    return dataset_id


async def test_a_text_search_reads_only_the_records_with_the_word(
        counted: tuple[GraphQLClient, ReadsCounter], mongodb_uri: str) -> None:
    """Issue 20: ``records(first: 1, filter: {text}) {totalCount}`` read every record (25 s at
    20,000); now the word is looked up by index: it reads the one record that has it."""
    owner, reads = counted
    dataset_id = await _dataset_of(owner, 600, needle_at=450)
    reads.filters.clear()
    page = await owner(h.RECORDS, {"id": dataset_id, "first": 1, "filter": {"text": "ZZZZQQQ"}})
    assert [e["node"]["externalId"] for e in page["records"]["edges"]] == ["r450"]
    assert page["records"]["totalCount"] == 1
    assert await reads.documents_read(mongodb_uri) <= 5
    both = await owner(h.RECORDS, {"id": dataset_id, "first": 5, "filter": {"text": "this zzzzqqq"}})
    assert both["records"]["totalCount"] == 1
    # "plain" is in 599 records, too many to look up by index: "451" is looked up instead.
    common = await owner(h.RECORDS, {"id": dataset_id, "first": 5, "filter": {"text": "plain 451"}})
    assert [e["node"]["externalId"] for e in common["records"]["edges"]] == ["r451"]
    assert common["records"]["totalCount"] == 1
    none = await owner(h.RECORDS, {"id": dataset_id, "first": 5, "filter": {"text": "zzzzqqq absent"}})
    assert (none["records"]["totalCount"], none["records"]["edges"]) == (0, [])
    error = await owner.error(h.RECORDS, {"id": dataset_id, "first": 1, "filter": {"text": "?!"}})
    assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["filter", "text"])


async def test_my_answered_records_are_read_from_my_responses(
        counted: tuple[GraphQLClient, ReadsCounter], mongodb_uri: str) -> None:
    """Issue 20: the UI's ``Answered`` query took 20.7 s for a labeler with one answer."""
    owner, reads = counted
    dataset_id = await _dataset_of(owner, 600, needle_at=450)
    labeler = await h.new_user(owner, "lab", workspaces=[await h.workspace_of(owner, dataset_id)])
    needle = await owner(h.RECORDS, {"id": dataset_id, "first": 1, "filter": {"externalIds": ["r450"]}})
    record_id = needle["records"]["edges"][0]["node"]["id"]
    await labeler(h.SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED",
                                       "values": [{"question": "completion", "value": {"text": "t"}}]}})
    reads.filters.clear()
    answered = await labeler(h.RECORDS, {"id": dataset_id, "first": 100, "filter": {
        "myResponseStatus": ["SUBMITTED", "DISCARDED", "DRAFT"]}})
    assert [e["node"]["id"] for e in answered["records"]["edges"]] == [record_id]
    assert answered["records"]["totalCount"] == 1
    assert await reads.documents_read(mongodb_uri) <= 110  # one response, then its record's bucket


async def _sorts_by_index(settings: Settings) -> bool:
    """Whether the app's paths (``storage/paths.py``, as the app chooses them) have an index
    serve an UPDATED_AT sort: on a MongoDB server, or when forced (FEEDBACKQL_STORAGE_PATHS)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        return (await choose(client[settings.database_name], settings.storage_paths)).sorts_by_index
    finally:
        await client.close()


async def test_counts_and_sorts_no_index_serves_are_refused_in_large_datasets(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """Issue 20: on 100,000 records ``filter: {status}) {totalCount}`` and an UPDATED_AT sort
    timed out. Status counts come from the counters; what would read the whole dataset is a
    typed refusal once the dataset is larger than ``max_scan_records``."""
    async with serve(settings.model_copy(update={"max_scan_records": 100}), builtin_registry) as owner:
        dataset_id = await _dataset_of(owner, 300, needle_at=7)
        for status, expected in (("PENDING", 300), ("COMPLETED", 0)):
            page = await owner(h.RECORDS, {"id": dataset_id, "first": 1, "filter": {"status": status}})
            assert page["records"]["totalCount"] == expected
        refused: list[dict[str, Any]] = [{"filter": {"metadata": [{"name": "n", "ge": 10}]}},
                                         {"sort": {"field": "METADATA", "name": "n"}},
                                         {"sort": {"field": "SUGGESTION_SCORE", "name": "completion"}}]
        if not await _sorts_by_index(settings):
            refused.append({"sort": {"field": "UPDATED_AT"}})
        else:  # MongoDB's paths: an index serves the sort, so it is answered
            page = await owner(h.RECORDS, {"id": dataset_id, "first": 1, "sort": {"field": "UPDATED_AT"}})
            assert len(page["records"]["edges"]) == 1
        for variables in refused:
            error = await owner.error(h.RECORDS, {"id": dataset_id, "first": 1, **variables})
            assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
            assert "all 300 records" in error["message"]
            assert error["extensions"]["limit"] == 100
        ids = "query($id: ID!, $f: RecordFilter) { records(datasetId: $id, first: 2, filter: $f) { edges { node { id } } } }"
        page = await owner(ids, {"id": dataset_id, "f": {"metadata": [{"name": "n", "ge": 10}]}})
        assert len(page["records"]["edges"]) == 2  # the page itself is bounded: only its count is refused


async def test_a_count_that_would_be_refused_is_refused_before_the_page_is_read(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """Issue 20: a filtered page with a ``totalCount`` the service refuses read its 20 buckets
    first, then was refused; a 30-alias query made every request of an attacker read 60 buckets
    for nothing. The refusal now comes before the page reads a bucket (fragments included)."""
    listener = ReadsCounter(settings.database_name)
    monitoring.register(listener)
    try:
        async with serve(settings.model_copy(update={"max_scan_records": 100}), builtin_registry) as owner:
            dataset_id = await _dataset_of(owner, 300, needle_at=7)
            listener.filters.clear()
            page = 'records(datasetId: $id, first: 10, filter: {metadata: [{name: "n", ge: 10}]})'
            for query in (f"query($id: ID!) {{ {page} {{ totalCount edges {{ node {{ id }} }} }} }}",
                          f"query($id: ID!) {{ {page} {{ ...counted }} }} "
                          "fragment counted on RecordConnection { totalCount }",
                          f"query($id: ID!) {{ {page} {{ ... on RecordConnection {{ totalCount }} }} }}"):
                error = await owner.error(query, {"id": dataset_id})
                assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", (query, error)
            assert [where for _, where in listener.filters if "bucket" in where] == []
    finally:
        listener.active = False


async def test_a_sparse_filter_answers_short_pages_that_resume(
        gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A filtered page reads a bounded number of buckets, then says where it stopped."""
    monkeypatch.setattr(listing, "MAX_BUCKETS_PER_PAGE", 2)
    dataset_id = await _dataset_of(gql, 600, needle_at=550)
    where = {"metadata": [{"name": "n", "ge": 550, "le": 550}]}
    found, pages, after = [], 0, None
    while True:
        page = (await gql(h.RECORDS, {"id": dataset_id, "first": 10, "filter": where, "after": after}))["records"]
        pages += 1
        found += [e["node"]["externalId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert found == ["r550"]
    assert pages == 3  # buckets 0-1, 2-3, 4-5: six buckets of 100, two per page


def test_one_address_cannot_take_every_connection(tmp_path: Path, mongodb_uri: str) -> None:
    """Issue 20: 1,001 idle sockets made every request, valid keys included, get uvicorn's
    plain-text 503. An address now has its own share; beyond it, a JSON 503 ``UNAVAILABLE``."""
    with service(tmp_path, mongodb_uri, max_connections_per_address=5) as running:
        idle = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(8)]
        try:
            refused = httpx.post(f"{running.url}/graphql", json={"query": "{ me { id } }"},
                                 headers={"Authorization": f"Bearer {SERVED_KEY}"}, timeout=10)
        finally:
            for sock in idle:
                sock.close()
        assert refused.status_code == 503
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        time.sleep(0.5)  # the server sees the idle sockets go
        served = httpx.post(f"{running.url}/graphql", json={"query": "{ me { username } }"},
                            headers={"Authorization": f"Bearer {SERVED_KEY}"}, timeout=10)
        assert served.json() == {"data": {"me": {"username": "owner"}}}


async def test_websocket_limits_are_per_key_and_on_opening(settings: Settings, builtin_registry: KindRegistry) -> None:
    """Issue 20: each socket had a bucket of its own (8 sockets of one key: 3,200 operations in
    6.9 s), and opening sockets was free."""
    limited = settings.model_copy(update={"rate_limit_per_second": 1.0, "rate_limit_burst": 10,
                                          "max_sockets_per_key": 3})
    with live_server(create_app(limited, builtin_registry)) as url:
        async with subscriber(url, OWNER_KEY) as a, subscriber(url, OWNER_KEY) as b, \
                subscriber(url, OWNER_KEY) as c:
            for i in range(10):
                for client in (a, b, c):
                    await client.send({"id": f"q{i}", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
            codes = [await _outcome(client) for client in (a, b, c) for _ in range(10)]
            async with subscriber(url, OWNER_KEY) as fourth:
                closed = await fourth.connection.wait_closed() or fourth.connection.close_code
        assert codes.count("RATE_LIMITED") >= 30 - 10 - 5, codes
        assert closed == 4429
        opened = 0
        with contextlib.suppress(websockets.exceptions.InvalidStatus):  # the handshake refused
            for _ in range(150):  # more than the address's share: 4 keys' burst of 10, and 4/s
                async with subscriber(url, OWNER_KEY):
                    opened += 1
        assert 30 <= opened < 150


async def _outcome(client: Subscriber) -> str:
    message = await client.receive()
    if message["type"] == "error":
        return str(message["payload"][0]["extensions"]["code"])
    if message["type"] == "next":
        await client.receive()  # its "complete"
        return "OK"
    return str(message["type"])


def test_a_key_that_spent_its_time_budget_waits() -> None:
    """Per-key budgets: requests running at once, and seconds of slow work."""
    now = [0.0]
    limits = RateLimits(rate=50, burst=200, max_in_flight=2, clock=lambda: now[0])
    for _ in range(100):  # quick requests cost nothing
        with limits.running("key:a") as quick:
            assert quick == 0
            now[0] += 0.1
    with limits.running("key:a") as first, limits.running("key:a") as second, limits.running("key:a") as third:
        assert (first, second) == (0, 0)
        assert third >= 1  # a third one at once waits
        now[0] += 40.25  # two slow requests: 80 s of slow work against a budget of 60
    with limits.running("key:a") as overdrawn, limits.running("key:b") as other:
        assert overdrawn > 70  # the 20 s owed paid back at 0.25 s/s, less what refilled meanwhile
        assert other == 0  # another key is not affected
    now[0] += 100.0
    with limits.running("key:a") as repaid:
        assert repaid == 0


async def test_aliased_filtered_pages_share_one_read_budget(
        gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20: ten aliased copies of a slow search ran ten times as long; the filtered pages of
    one request now share one budget of bucket reads, and a page past it is refused."""
    monkeypatch.setattr(listing, "MAX_BUCKETS_PER_PAGE", 2)
    monkeypatch.setattr(listing, "MAX_BUCKETS_PER_REQUEST", 3)
    dataset_id = await _dataset_of(gql, 600, needle_at=550)
    page = 'records(datasetId: $id, first: 10, filter: {metadata: [{name: "n", ge: 550}]}) { edges { node { id } } }'
    one = await gql(f"query($id: ID!) {{ {page} }}", {"id": dataset_id})
    assert one["records"]["edges"] == []  # two buckets read, nothing there yet
    error = await gql.error("query($id: ID!) { " + " ".join(f"a{i}: {page}" for i in range(3)) + " }",
                            {"id": dataset_id})
    assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("QUERY_TOO_COSTLY", "request_budget")
