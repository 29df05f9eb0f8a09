"""Responses: one document per (record, user), versioned for optimistic concurrency.

A deleted response keeps its document with status ``deleted`` so that its version keeps
growing; the record's work state remembers the version of each labeler's response it reflects
(``response_versions``, ``domain/work_state.py``), so a write about an older version is ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.errors import OperationFailure

from feedbackql_server.documents import RESPONSE_STATUSES, RecordDoc, ResponseDoc, StoredValue
from feedbackql_server.errors import Conflict
from feedbackql_server.size_limits import RESPONSE_BATCH
from feedbackql_server.storage.bounded import find_all
from feedbackql_server.storage.buckets import RecordPlace
from feedbackql_server.storage.duplicates import is_duplicate_key
from feedbackql_server.storage.lookups import find_each

Doc = dict[str, Any]
ACTIVE = list(RESPONSE_STATUSES)
DELETED = "deleted"
DELETE_CONCURRENCY = 16


class ResponseRepo:
    def __init__(self, collection: AsyncCollection[ResponseDoc]) -> None:
        self.collection = collection

    async def write(
        self,
        *,
        record_id: ObjectId,
        dataset_id: ObjectId,
        bucket: str,
        user_id: ObjectId,
        status: str,
        values: dict[str, StoredValue],
        expected_version: int | None,
    ) -> ResponseDoc:
        """Create or replace the user's response; the stored document after the write.

        ``expected_version`` (when given) must equal the current version, 0 meaning "no
        response yet"; otherwise ``Conflict``.
        """
        now = datetime.now(UTC)
        key = {"record_id": record_id, "user_id": user_id}
        update: Doc = {
            "$set": {"status": status, "values": values, "updated_at": now, "dataset_id": dataset_id,
                     "bucket": bucket},
            "$inc": {"version": 1},
            "$setOnInsert": {"created_at": now},
        }
        if expected_version is None:
            selector: Doc = key
        elif expected_version == 0:
            selector = {**key, "status": DELETED}
        else:
            selector = {**key, "version": expected_version, "status": {"$in": ACTIVE}}
        upsert = expected_version in (None, 0)
        for _attempt in range(2):
            try:
                doc = await self.collection.find_one_and_update(
                    selector, update, upsert=upsert, return_document=ReturnDocument.AFTER
                )
            except OperationFailure as exc:
                if not is_duplicate_key(exc):
                    raise
                # Two first writes raced; the loser either retries as an update or, when it
                # expected no response to exist, has lost the race.
                if expected_version == 0:
                    break
                continue
            if doc is not None:
                return doc
            break
        raise Conflict(
            f"the response changed since version {expected_version}; reload it and try again",
        )

    async def all_of_record(self, record_id: ObjectId) -> list[ResponseDoc]:
        """Every response document of the record, deleted ones included (they carry versions)."""
        return await find_all(self.collection, {"record_id": record_id}, batch_size=RESPONSE_BATCH)

    async def of_user(self, record_id: ObjectId, user_id: ObjectId) -> ResponseDoc | None:
        """The user's live response to the record, if any."""
        return await self.collection.find_one(
            {"record_id": record_id, "user_id": user_id, "status": {"$in": ACTIVE}})

    async def for_records(self, records: Sequence[RecordPlace]) -> list[ResponseDoc]:
        """Live responses of the records, in the order they were created."""
        docs = await self._of_places(records, {"status": {"$in": ACTIVE}})
        return sorted(docs, key=lambda doc: doc["_id"])

    async def _of_places(self, places: Sequence[RecordPlace], status: Doc) -> list[ResponseDoc]:
        """Responses of the records at ``places`` whose status matches, read one bucket at a
        time: a page of records costs a lookup or two, not one per record. A response keeps
        its record's bucket (``buckets.py``)."""
        wanted = {record_id for record_id, _ in places}
        docs = await find_each(self.collection, "bucket", [bucket for _, bucket in places], status,
                               batch_size=RESPONSE_BATCH)
        return [doc for doc in docs if doc["record_id"] in wanted]

    async def buckets_of_user(self, dataset_id: ObjectId, user: str, statuses: Sequence[str],
                              limit: int) -> list[str] | None:
        """The buckets of the records ``user`` (an id string) has a response of one of
        ``statuses`` to, one per response; None when there are more than ``limit``. Read by the
        user's id, indexed: "the records I answered" costs what the user answered, not a read
        of the dataset's records (20.7 s for one answer at 100,000 records)."""
        selector: Doc = {"user_id": ObjectId(user), "dataset_id": dataset_id, "status": {"$in": list(statuses)}}
        docs = await self.collection.find(selector, {"bucket": 1, "_id": 0}).limit(limit + 1).to_list()
        if len(docs) > limit:
            return None
        return [doc["bucket"] for doc in docs if "bucket" in doc]

    async def records_of_user(self, dataset_id: ObjectId, user: str, statuses: Sequence[str],
                              limit: int) -> list[ObjectId] | None:
        """The records ``user`` (an id string) has a response of one of ``statuses`` to; None
        when there are more than ``limit``. Read by the user's id, as ``buckets_of_user``."""
        selector: Doc = {"user_id": ObjectId(user), "dataset_id": dataset_id, "status": {"$in": list(statuses)}}
        docs = await self.collection.find(selector, {"record_id": 1, "_id": 0}).limit(limit + 1).to_list()
        return None if len(docs) > limit else [doc["record_id"] for doc in docs]

    async def mark_deleted(self, record_id: ObjectId, user_id: ObjectId) -> ResponseDoc | None:
        return await self.collection.find_one_and_update(
            {"record_id": record_id, "user_id": user_id, "status": {"$in": ACTIVE}},
            {"$set": {"status": DELETED, "values": {}, "updated_at": datetime.now(UTC)},
             "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def delete_for_records(self, record_ids: Sequence[ObjectId]) -> None:
        """One delete per record: a ``$in`` reads the whole collection on FerretDB."""
        gate = asyncio.Semaphore(DELETE_CONCURRENCY)

        async def delete(record_id: ObjectId) -> None:
            async with gate:
                await self.collection.delete_many({"record_id": record_id})

        await asyncio.gather(*(delete(record_id) for record_id in record_ids))

    async def delete_dataset(self, dataset_id: ObjectId) -> None:
        await self.collection.delete_many({"dataset_id": dataset_id})

    async def delete_written(self, response: ResponseDoc) -> None:
        """Undo a write whose record or dataset was deleted meanwhile (this version only),
        selected by its record as well: FerretDB looks responses up by ``record_id`` (indexed)."""
        await self.collection.delete_one({"record_id": response["record_id"], "_id": response["_id"],
                                          "version": response["version"]})

    async def of_dataset(self, dataset_id: ObjectId) -> list[ResponseDoc]:
        """Every response document of the dataset, deleted ones included (reads it whole)."""
        return await self.collection.find({"dataset_id": dataset_id}, {"values": 0}).to_list()

    async def orphans(self, dataset_ids: Collection[ObjectId]) -> list[ObjectId]:
        """Datasets, not among ``dataset_ids``, that responses are kept for."""
        groups = await self.collection.aggregate([{"$group": {"_id": "$dataset_id"}}])
        return [doc["_id"] async for doc in groups if doc["_id"] not in dataset_ids]

    async def in_buckets(self, records: Sequence[RecordDoc], *, submitted_only: bool = False) -> list[ResponseDoc]:
        """Live (or only submitted) responses of ``records``, least recently updated first."""
        status: Doc = {"status": "submitted"} if submitted_only else {"status": {"$in": ACTIVE}}
        docs = await self._of_places([(record["_id"], record["bucket"]) for record in records], status)
        return sorted(docs, key=lambda doc: (doc["updated_at"], doc["_id"]))

    def submitted_answers(self, dataset_id: ObjectId, question: str) -> AsyncCursor[ResponseDoc]:
        """Submitted answers to one question, grouped by record (and oldest first within it),
        with only what agreement needs: streamed, never held whole."""
        return self.collection.find(
            {"dataset_id": dataset_id, "status": "submitted", f"values.{question}": {"$exists": True}},
            {"record_id": 1, "user_id": 1, f"values.{question}": 1}, batch_size=RESPONSE_BATCH,
        ).sort([("record_id", 1), ("updated_at", 1), ("_id", 1)])
