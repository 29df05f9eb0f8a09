"""Datasets with their embedded fields, questions and metadata properties.

Every write of a dataset document holds the dataset's lock (``storage/locks.py``), which the
counter increments hold too (``storage/tallies.py``: the counters live in this document).
FerretDB applies any update as an unisolated read-modify-write of the whole document: an edit
of the guidelines every 0.2 s under 20 labelers wrote back counters read before concurrent
increments and left them at 976 submitted against 1,000. MongoDB updates each document
atomically; there the lock costs a dictionary look-up.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from feedbackql_server.documents import DatasetDoc, KindItem
from feedbackql_server.errors import Conflict, NotFound
from feedbackql_server.storage.duplicates import is_duplicate_key
from feedbackql_server.storage.locks import KeyedLocks
from feedbackql_server.storage.lookups import find_each

Doc = dict[str, Any]
"""Filters and changes (the documents are ``DatasetDoc``)."""


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a dataset named {name!r} already exists in this workspace")


class DatasetRepo:
    def __init__(self, collection: AsyncCollection[DatasetDoc], locks: KeyedLocks) -> None:
        self.collection = collection
        self.locks = locks

    async def reserve_seqs(self, dataset_id: ObjectId, count: int) -> int:
        """The first of ``count`` record numbers reserved for the caller alone.

        ``$inc`` is atomic on MongoDB; FerretDB applies it as an unisolated read-modify-write,
        so this process also serializes the reservations of a dataset."""
        async with self.locks.hold(dataset_id):
            doc = await self.collection.find_one_and_update(
                {"_id": dataset_id}, {"$inc": {"next_seq": count}},
                return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound(f"dataset {dataset_id} does not exist")
        first: int = doc["next_seq"] - count
        return first

    async def insert(self, doc: DatasetDoc) -> DatasetDoc:
        try:
            await self.collection.insert_one(doc)
        except OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            raise _name_taken(doc["name"]) from None
        return doc

    async def get(self, dataset_id: ObjectId) -> DatasetDoc | None:
        return await self.collection.find_one({"_id": dataset_id})

    async def by_ids(self, ids: list[ObjectId]) -> list[DatasetDoc]:
        """One indexed lookup per id (``storage/lookups.py``: an ``$in`` reads every dataset on FerretDB)."""
        return await find_each(self.collection, "_id", ids)

    async def in_workspaces(self, workspace_ids: list[ObjectId]) -> list[DatasetDoc]:
        """Oldest first; one indexed lookup per workspace (an ``$in`` reads every dataset on FerretDB)."""
        return sorted(await find_each(self.collection, "workspace_id", workspace_ids), key=lambda d: d["_id"])

    async def update(self, dataset_id: ObjectId, changes: Doc, *, when: Doc | None = None) -> DatasetDoc | None:
        """Apply ``$set`` changes if the dataset still matches ``when``; the updated document."""
        try:
            async with self.locks.hold(dataset_id):
                return await self.collection.find_one_and_update(
                    {"_id": dataset_id, **(when or {})},
                    {"$set": changes},
                    return_document=ReturnDocument.AFTER,
                )
        except OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            raise _name_taken(changes.get("name", "")) from None

    async def push_item(
        self, dataset_id: ObjectId, array: str, item: KindItem, *, revision: int, changes: Doc
    ) -> DatasetDoc | None:
        """Append to ``fields``/``questions`` if the dataset is still at ``revision``."""
        async with self.locks.hold(dataset_id):
            return await self.collection.find_one_and_update(
                {"_id": dataset_id, "status": "draft", "revision": revision},
                {"$push": {array: item}, "$set": changes, "$inc": {"revision": 1}},
                return_document=ReturnDocument.AFTER,
            )

    async def mark_deleting(self, dataset_id: ObjectId) -> bool:
        """Refuse every later write to the dataset's records and responses (they look for the
        mark after they write, and undo what they wrote: ``domain/datasets.py``)."""
        return await self.update(dataset_id, {"deleting": True}) is not None

    async def delete(self, dataset_id: ObjectId) -> bool:
        async with self.locks.hold(dataset_id):
            result = await self.collection.delete_one({"_id": dataset_id})
        return result.deleted_count == 1

    async def being_deleted(self) -> list[ObjectId]:
        """Datasets marked for deletion: at start-up, those a crash stopped half-way."""
        return [doc["_id"] async for doc in self.collection.find({"deleting": True}, {"_id": 1})]

    async def all_ids(self) -> set[ObjectId]:
        return {doc["_id"] async for doc in self.collection.find({}, {"_id": 1})}

    async def any_in_workspace(self, workspace_id: ObjectId) -> bool:
        return await self.collection.find_one({"workspace_id": workspace_id}, {"_id": 1}) is not None
