"""Request-scoped batch loaders: documents by id, read once per request however many
resolvers ask for them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bson import ObjectId
from strawberry.dataloader import DataLoader

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc, UserDoc, WorkspaceDoc
from feedbackql_server.storage import Storage
from feedbackql_server.storage.buckets import RecordPlace

Doc = dict[str, Any]
K = TypeVar("K")
V = TypeVar("V")


def _by_id(
    load: Callable[[list[ObjectId]], Any],
) -> Callable[[Sequence[ObjectId]], Any]:
    async def batch(ids: Sequence[ObjectId]) -> list[Doc | None]:
        docs = {doc["_id"]: doc for doc in await load(list(ids))}
        return [docs.get(i) for i in ids]

    return batch


def _responses_by_record(
    load: Callable[[list[RecordPlace]], Awaitable[list[ResponseDoc]]],
) -> Callable[[Sequence[RecordPlace]], Awaitable[list[list[ResponseDoc]]]]:
    async def batch(places: Sequence[RecordPlace]) -> list[list[ResponseDoc]]:
        groups: dict[ObjectId, list[ResponseDoc]] = {record_id: [] for record_id, _ in places}
        for doc in await load(list(places)):
            groups[doc["record_id"]].append(doc)
        return [groups[record_id] for record_id, _ in places]

    return batch


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose waiters can be cancelled one by one.

    graphql-core cancels the sibling resolvers of a field that failed. A resolver awaiting a
    DataLoader future directly would cancel that future, which other resolvers share, and
    the cancellation then escapes them and kills the whole request (found by the fuzz test).
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


@dataclass
class Loaders:
    users: SharedLoader[ObjectId, UserDoc | None]
    workspaces: SharedLoader[ObjectId, WorkspaceDoc | None]
    datasets: SharedLoader[ObjectId, DatasetDoc | None]
    records: SharedLoader[ObjectId, RecordDoc | None]
    responses: SharedLoader[RecordPlace, list[ResponseDoc]]
    """By the record's id and bucket (``storage/buckets.py``)."""

    @classmethod
    def of(cls, storage: Storage) -> Loaders:
        return cls(
            users=SharedLoader(_by_id(storage.users.by_ids)),
            workspaces=SharedLoader(_by_id(storage.workspaces.by_ids)),
            datasets=SharedLoader(_by_id(storage.datasets.by_ids)),
            records=SharedLoader(_by_id(storage.records.by_ids)),
            responses=SharedLoader(_responses_by_record(storage.responses.for_records)),
        )
