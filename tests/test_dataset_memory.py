"""What a process keeps per dataset in memory (``domain/dataset_memory.py``) goes when the dataset is
deleted: the queue's pools, the vector spaces' copies and their saved files, the common search
words, the live subscriptions, the locks; and each is bounded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Set
from pathlib import Path

import httpx
import pytest
from bson import ObjectId

from feedbackql_server.app import create_app
from feedbackql_server.domain import dataset_memory, listing
from feedbackql_server.domain.session import Services
from feedbackql_server.domain.vector_index import SpaceIndex, VectorIndexes
from feedbackql_server.domain.vectors import VectorSpace
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests import interleavings as il
from tests.conftest import OWNER_KEY, GraphQLClient, serve
from tests.live import Subscriber, live_server, subscriber

DATASETS = 3
ADD_SPACE = """mutation($id: ID!) {
  addVectorSpace(datasetId: $id, space: { name: "emb", dimension: 2, metric: COSINE }) { name } }"""
SIMILAR = """query($id: ID!, $record: ID!) {
  similarRecords(datasetId: $id, space: "emb", near: { recordId: $record }, first: 3) { items { score } } }"""
SEARCH = """query($id: ID!) { records(datasetId: $id, first: 5, filter: { text: "common" }) {
  edges { node { id } } } }"""
PROGRESS = "subscription($id: ID!) { datasetProgress(datasetId: $id) { total } }"


def _holds(holder: object, dataset_id: ObjectId) -> list[str]:
    """The containers of ``holder`` with ``dataset_id`` as a key, or in a tuple key."""
    found = []
    for name, value in vars(holder).items():
        keys = value.keys() if isinstance(value, Mapping) else value if isinstance(value, Set) else ()
        if any(key == dataset_id or (isinstance(key, tuple) and dataset_id in key) for key in keys):
            found.append(f"{type(holder).__name__}.{name}")
    return found


async def _used_dataset(gql: GraphQLClient, workspace: str, number: int) -> str:
    """A dataset whose every per-dataset piece of memory has been used, but the subscription."""
    dataset_id: str = (await h.dataset(gql, workspace, name=f"d{number}",
                                       fields=[{"name": "prompt", "settings": h.TEXT}],
                                       questions=[{"name": "completion", "settings": {"text": {}}}]))["id"]
    await gql(ADD_SPACE, {"id": dataset_id})
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"common words {i}"}, "vectors": {"emb": [1, i]}}
                                          for i in range(6)])
    leased = (await gql(il.NEXT, {"id": dataset_id, "n": 2}))["nextRecords"]
    await gql(h.SUBMIT, il.answer(leased[0]["id"]))
    await gql(SIMILAR, {"id": dataset_id, "record": leased[0]["id"]})
    await gql(SEARCH, {"id": dataset_id})
    return dataset_id


async def _subscribed(stack: contextlib.AsyncExitStack, url: str, dataset_id: str) -> Subscriber:
    client = await stack.enter_async_context(subscriber(url, OWNER_KEY))
    await client.subscribe(PROGRESS, {"id": dataset_id})
    assert (await client.receive())["type"] == "next"  # registered: the first snapshot came
    return client


async def _saved(folder: Path, dataset_id: str) -> None:
    for _ in range(200):
        if await asyncio.to_thread(lambda: list(folder.glob(f"{dataset_id}-*/meta.json"))):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"dataset {dataset_id}'s vector space was never saved")


async def test_deleted_datasets_leave_nothing_in_memory_nor_in_the_vector_folder(
    settings: Settings, builtin_registry: KindRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "MAX_MATCHES", 2)  # "common", in all 6 records, is a common word
    folder = tmp_path / "vectors"
    app = create_app(settings.model_copy(update={"vector_index_dir": folder, "rate_limit_per_second": 10_000,
                                                 "rate_limit_burst": 10_000}), builtin_registry)
    with live_server(app) as url:
        services: Services = app.state.services
        holders = [*dataset_memory.holders(services), services.storage.dataset_locks,
                   services.storage.tallies._user_locks, app.state.read_quotas]
        async with httpx.AsyncClient(base_url=url) as http, contextlib.AsyncExitStack() as stack:
            gql = GraphQLClient(http, OWNER_KEY)
            workspace = await h.workspace(gql)
            ids = [await _used_dataset(gql, workspace, number) for number in range(DATASETS)]
            live = [await _subscribed(stack, url, dataset_id) for dataset_id in ids]
            for dataset_id in ids:
                await _saved(folder, dataset_id)
                held = {place for holder in dataset_memory.holders(services)
                        for place in _holds(holder, ObjectId(dataset_id))}
                assert held == {"QueuePools.pools", "VectorIndexes.spaces", "CommonWords.until",
                                "InProcessBroker.subscribers"}
            for dataset_id, client in zip(ids, live, strict=True):
                await gql(il.DELETE_DATASET, {"id": dataset_id})
                ended = await client.receive()  # the subscription ends: its dataset is gone
                assert [e["extensions"]["code"] for e in ended["payload"]["errors"]] == ["NOT_FOUND"], ended
                assert (await client.receive())["type"] == "complete"
        for dataset_id in ids:
            assert [place for holder in holders for place in _holds(holder, ObjectId(dataset_id))] == []
        assert list(folder.iterdir()) == []
        assert len(services.storage.dataset_locks) == 0
        assert len(services.storage.tallies._user_locks) == 0
        assert app.state.read_quotas.holders == {}


async def test_saved_vector_spaces_of_datasets_deleted_elsewhere_go_at_start(
    settings: Settings, builtin_registry: KindRegistry, tmp_path: Path
) -> None:
    """A dataset deleted through another replica (or by a deletion a crash cut short) leaves this
    replica's saved copies: the next start removes them, and keeps those of datasets that exist."""
    folder = tmp_path / "vectors"
    settings = settings.model_copy(update={"vector_index_dir": folder})
    async with serve(settings, builtin_registry) as gql:
        existing = await h.sft_dataset(gql)
    saved = [folder / f"{dataset_id}-k" for dataset_id in (existing, ObjectId(), ObjectId())]
    for space in saved:
        space.mkdir(parents=True)
        (space / "meta.json").write_text("{}")
    async with serve(settings, builtin_registry):
        pass
    assert list(folder.iterdir()) == saved[:1]


async def test_a_removed_vector_space_leaves_nothing_behind(
    settings: Settings, builtin_registry: KindRegistry, tmp_path: Path
) -> None:
    folder = tmp_path / "vectors"
    app = create_app(settings.model_copy(update={"vector_index_dir": folder}), builtin_registry)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            gql = GraphQLClient(http, OWNER_KEY)
            dataset_id = await _used_dataset(gql, await h.workspace(gql), 0)
            await _saved(folder, dataset_id)
            await gql('mutation($id: ID!) { removeVectorSpace(datasetId: $id, name: "emb") { name } }',
                      {"id": dataset_id})
            assert services.vector_indexes.spaces == {}
            assert list(folder.iterdir()) == []


def test_the_vector_spaces_held_are_bounded() -> None:
    indexes = VectorIndexes(limit=2)
    keys = [(ObjectId(), "k") for _ in range(3)]
    for key in keys:
        indexes.spaces[key] = SpaceIndex(VectorSpace("emb", 2, "cosine", "k"))
        indexes._bound()
    assert list(indexes.spaces) == keys[1:]
