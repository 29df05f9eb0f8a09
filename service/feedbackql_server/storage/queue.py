"""The records' work state: who answered what, leases, and what the labeler queue selects.

A record carries, besides its data, ``submitted_by``/``draft_by``/``discarded_by`` (user id
strings), ``response_versions`` (user -> newest response version applied),
``submitted_count``, ``status``, ``leases`` ([{user, until}]), ``skips`` ([{user, until}]:
who skipped it, offered to them last until then), ``saturated_until`` (until
when every answer it still needs is leased out; the epoch when it has room), ``counted_min``
(the ``minSubmitted`` its status was derived with) and ``state_version``, which every change
of this state increments.

Every change of this state, whoever makes it (an answer, a lease, a change of ``minSubmitted``,
a repair), is one ``set_state`` of one record, written by ``domain/state_writes.py`` under the
record's in-process lock. With MongoDB's paths it is also compare-and-set on ``state_version``,
so that writers in several replicas cannot overwrite each other; with FerretDB's it is not
(``StoragePaths.compare_and_set`` in ``storage/paths.py`` decides, and says why): FerretDB
applies updates as unisolated read-modify-writes, which compare-and-set cannot make atomic, and
the lock of the one process that serves the embedded database is what serializes them. Never
``update_many`` this state: FerretDB performs it as a read-modify-write per document that
overwrites concurrent answers (a ``minSubmitted`` change under 20 labelers left 69 of 500
records completed with 1 of 2 answers).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from feedbackql_server.documents import RESPONSE_STATUSES, RecordDoc
from feedbackql_server.storage.buckets import bucket_key
from feedbackql_server.storage.filter_keys import RESPONSE_KEYS, response_keys
from feedbackql_server.storage.paths import MONGODB

Doc = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATE_FIELDS = ("dataset_id", "seq", "bucket", "status", "counted_min", "submitted_by", "draft_by", "discarded_by",
                "response_versions", "submitted_count", "leases", "skips", "saturated_until",
                "state_version", RESPONSE_KEYS)
QUEUE_DEFAULTS: Doc = {"submitted_count": 0, "leases": [], "saturated_until": EPOCH,
                       "state_version": 0}


class QueueRepo:
    def __init__(self, collection: AsyncCollection[RecordDoc]) -> None:
        self.collection = collection
        self.paths = MONGODB
        """Whether state writes are compare-and-set (``StoragePaths.compare_and_set``), set by
        ``Storage.prepare``."""

    async def state(self, record_id: ObjectId) -> RecordDoc | None:
        return await self.collection.find_one({"_id": record_id}, dict.fromkeys(STATE_FIELDS, 1))

    async def set_state(self, record: RecordDoc, changes: Doc) -> bool:
        """Write ``changes`` if the record's state is still the one ``record`` was read at.
        Changes of who answered carry the record's ``response_keys`` (``filter_keys.py``), in
        the same update."""
        if any(f"{status}_by" in changes for status in RESPONSE_STATUSES):
            changes = {**changes, RESPONSE_KEYS: response_keys({**record, **changes})}
        version = record.get("state_version", 0)
        selector: Doc = {"_id": record["_id"]}
        if self.paths.compare_and_set:
            selector["state_version"] = version
        result = await self.collection.update_one(selector, {"$set": {**changes, "state_version": version + 1}})
        return result.matched_count == 1

    async def delete(self, record: RecordDoc) -> bool:
        """Delete the record if its state is still the one ``record`` was read at."""
        selector: Doc = {"_id": record["_id"]}
        if self.paths.compare_and_set:
            selector["state_version"] = record.get("state_version", 0)
        result = await self.collection.delete_one(selector)
        return result.deleted_count == 1

    async def pending_in_bucket(self, dataset_id: ObjectId, number: int) -> list[RecordDoc]:
        """The state of the pending records in one bucket of the dataset (one equality lookup)."""
        return await self.collection.find(
            {"bucket": bucket_key(dataset_id, number), "status": "pending"}, dict.fromkeys(STATE_FIELDS, 1),
        ).to_list()

    async def in_bucket(self, dataset_id: ObjectId, number: int) -> list[RecordDoc]:
        """The state of every record in one bucket of the dataset (one equality lookup)."""
        return await self.collection.find({"bucket": bucket_key(dataset_id, number)},
                                          dict.fromkeys(STATE_FIELDS, 1)).to_list()

    async def of_dataset(self, dataset_id: ObjectId) -> list[RecordDoc]:
        """The state of every record of the dataset (reads it whole)."""
        return await self.collection.find({"dataset_id": dataset_id}, dict.fromkeys(STATE_FIELDS, 1)).to_list()

    async def orphans(self, dataset_ids: Collection[ObjectId]) -> list[ObjectId]:
        """Datasets, not among ``dataset_ids``, that records are kept for."""
        groups = await self.collection.aggregate([{"$group": {"_id": "$dataset_id"}}])
        return [doc["_id"] async for doc in groups if doc["_id"] not in dataset_ids]
