"""Record vectors: one document per (record, vector space), apart from the record.

Apart, so that a records page never carries embeddings (384 float32 are 1.5 KB a record, a
bucket read would double) and a vector can change without touching the record. Each write
takes numbers from the dataset's vector sequence (``vector_seqs``); a search compares the
sequence with what its in-process index has seen and reads only the documents written since
(``domain/vector_index.py``), so a replica follows the writes of every other replica of the
same database, and writes made straight into the database that take a number the same way.

A vector is stored as the little-endian float32 bytes of its values (``Binary``): a quarter of
a BSON array of doubles, one field for FerretDB to decode, and no NaN/Infinity can be stored
(they are refused before: ``domain/vectors.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import Binary, ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.size_limits import READ_BUDGET_BYTES
from feedbackql_server.storage.bounded import find_all

Doc = dict[str, Any]
COLLECTION = "record_vectors"
SEQUENCES = "vector_seqs"


@dataclass(frozen=True)
class StoredVector:
    record_id: ObjectId
    values: bytes
    seq: int


def vector_id(record_id: ObjectId, space_key: str) -> str:
    return f"{record_id}:{space_key}"


class VectorRepo:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.vectors = db[COLLECTION]
        self.sequences = db[SEQUENCES]

    async def prepare(self, *, every_index: bool) -> None:
        """The index a catch-up read uses on MongoDB (FerretDB reads the dataset's documents
        of the space whatever the index: ``shared/DESIGN.md``)."""
        if every_index:
            await self.vectors.create_index([("dataset_id", 1), ("space", 1), ("seq", 1)])

    async def version(self, dataset_id: ObjectId) -> int:
        """The dataset's vector sequence: the number the last write took (0: none)."""
        doc = await self.sequences.find_one({"_id": dataset_id})
        return int(doc["seq"]) if doc else 0

    async def write(self, dataset_id: ObjectId, space_key: str,
                    entries: Sequence[tuple[ObjectId, bytes]]) -> int:
        """Set the vectors of ``entries`` (record id, float32 bytes) in one space; the
        sequence number the last one took."""
        if not entries:
            return await self.version(dataset_id)
        reserved = await self.sequences.find_one_and_update(
            {"_id": dataset_id}, {"$inc": {"seq": len(entries)}}, upsert=True,
            return_document=ReturnDocument.AFTER)
        last = int(reserved["seq"]) if reserved else 0
        first = last - len(entries) + 1
        now = datetime.now(UTC)
        await self.vectors.bulk_write([
            UpdateOne({"_id": vector_id(record_id, space_key)},
                      {"$set": {"dataset_id": dataset_id, "space": space_key, "record_id": record_id,
                                "v": Binary(values), "seq": first + offset, "updated_at": now}},
                      upsert=True)
            for offset, (record_id, values) in enumerate(entries)], ordered=False)
        return last

    async def since(self, dataset_id: ObjectId, space_key: str, after_seq: int,
                    dimension: int) -> list[StoredVector]:
        """The space's vectors written after ``after_seq`` (all for 0), in batches that fit a
        wire message."""
        selector: Doc = {"dataset_id": dataset_id, "space": space_key}
        if after_seq:
            selector["seq"] = {"$gt": after_seq}
        batch = max(1, READ_BUDGET_BYTES // (dimension * 4 + 200))
        docs = await find_all(self.vectors, selector, {"record_id": 1, "v": 1, "seq": 1}, batch_size=batch)
        return [StoredVector(doc["record_id"], bytes(doc["v"]), int(doc["seq"])) for doc in docs]

    async def of_record(self, record_id: ObjectId, space_key: str) -> bytes | None:
        doc = await self.vectors.find_one({"_id": vector_id(record_id, space_key)}, {"v": 1})
        return bytes(doc["v"]) if doc else None

    async def delete_space(self, dataset_id: ObjectId, space_key: str) -> None:
        await self.vectors.delete_many({"dataset_id": dataset_id, "space": space_key})

    async def delete_dataset(self, dataset_id: ObjectId) -> None:
        await self.vectors.delete_many({"dataset_id": dataset_id})
        await self.sequences.delete_one({"_id": dataset_id})
