"""The records' work state: who answered what, leases, and what the labeler queue selects.

A record carries, besides its data, ``submitted_by``/``draft_by``/``discarded_by`` (user id
strings), ``response_versions`` (user -> newest response version applied),
``submitted_count``, ``status``, ``leases`` ([{user, until}]), ``saturated_until`` (until
when every answer it still needs is leased out; the epoch when it has room) and
``state_version``, which every change of this state increments: writes are compare-and-set
on it, so two writers (two replicas, or FerretDB's unisolated updates) cannot interleave.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from feedbackql_server.storage.buckets import bucket_key
from feedbackql_server.storage.busy import retry_when_busy
from feedbackql_server.storage.documents import RecordDoc

Doc = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATE_FIELDS = ("dataset_id", "seq", "status", "submitted_by", "draft_by", "discarded_by",
                "response_versions", "submitted_count", "leases", "saturated_until",
                "state_version")
QUEUE_DEFAULTS: Doc = {"submitted_count": 0, "leases": [], "saturated_until": EPOCH,
                       "state_version": 0}


class QueueRepo:
    def __init__(self, collection: AsyncCollection[RecordDoc]) -> None:
        self.collection = collection
        self.compare_and_set = True
        """False on FerretDB, where a filter on more than ``_id`` reads the whole collection
        (12 ms against 100 ms per update at 3,000 records): there, one process serializes
        the writes of a record with its in-process lock, which the writers all hold."""

    @retry_when_busy
    async def state(self, record_id: ObjectId) -> RecordDoc | None:
        return await self.collection.find_one({"_id": record_id}, dict.fromkeys(STATE_FIELDS, 1))

    @retry_when_busy
    async def set_state(self, record: RecordDoc, changes: Doc) -> bool:
        """Write ``changes`` if the record's state is still the one ``record`` was read at."""
        version = record.get("state_version", 0)
        selector: Doc = {"_id": record["_id"]}
        if self.compare_and_set:
            selector["state_version"] = version
        result = await self.collection.update_one(selector, {"$set": {**changes, "state_version": version + 1}})
        return result.matched_count == 1

    async def pending_in_bucket(self, dataset_id: ObjectId, number: int) -> list[RecordDoc]:
        """The state of the pending records in one bucket of the dataset (one equality lookup)."""
        return await self.collection.find(
            {"bucket": bucket_key(dataset_id, number), "status": "pending"}, dict.fromkeys(STATE_FIELDS, 1),
        ).to_list()

    async def reopen(self, dataset_id: ObjectId) -> None:
        """Let the queue look at every pending record again (after ``minSubmitted`` changed)."""
        await self.collection.update_many({"dataset_id": dataset_id, "status": "pending"},
                                          {"$set": {"saturated_until": EPOCH}, "$inc": {"state_version": 1}})
