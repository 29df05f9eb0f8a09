"""Datasets with their embedded fields, questions and metadata properties."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from feedbackql_server.errors import Conflict, NotFound
from feedbackql_server.storage.documents import DatasetDoc, KindItem
from feedbackql_server.storage.duplicates import is_duplicate_key

Doc = dict[str, Any]
"""Filters and changes (the documents are ``DatasetDoc``)."""


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a dataset named {name!r} already exists in this workspace")


class DatasetRepo:
    def __init__(self, collection: AsyncCollection[DatasetDoc]) -> None:
        self.collection = collection
        self._numbering: defaultdict[ObjectId, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def reserve_seqs(self, dataset_id: ObjectId, count: int) -> int:
        """The first of ``count`` record numbers reserved for the caller alone.

        ``$inc`` is atomic on MongoDB; FerretDB applies it as an unisolated read-modify-write,
        so this process also serializes the reservations of a dataset."""
        async with self._numbering[dataset_id]:
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
        return await self.collection.find({"_id": {"$in": ids}}).to_list()

    async def in_workspaces(self, workspace_ids: list[ObjectId]) -> list[DatasetDoc]:
        cursor = self.collection.find({"workspace_id": {"$in": workspace_ids}}).sort("_id", 1)
        return await cursor.to_list()

    async def update(self, dataset_id: ObjectId, changes: Doc, *, when: Doc | None = None) -> DatasetDoc | None:
        """Apply ``$set`` changes if the dataset still matches ``when``; the updated document."""
        try:
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
        return await self.collection.find_one_and_update(
            {"_id": dataset_id, "status": "draft", "revision": revision},
            {"$push": {array: item}, "$set": changes, "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def delete(self, dataset_id: ObjectId) -> bool:
        result = await self.collection.delete_one({"_id": dataset_id})
        return result.deleted_count == 1

    async def any_in_workspace(self, workspace_id: ObjectId) -> bool:
        return await self.collection.find_one({"workspace_id": workspace_id}, {"_id": 1}) is not None
