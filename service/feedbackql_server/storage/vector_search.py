"""MongoDB's own vector search (``$vectorSearch``), used when the server has it.

Detected at start-up: ``$listSearchIndexes`` answers only where a search process (``mongot``:
Atlas, or MongoDB 8.2+ with it) runs; FerretDB and a plain ``mongod`` refuse it, and then this
path stays off. It cannot run on this project's machines (FerretDB only): it is written to
MongoDB's documentation and kept small. When on, each vector document also carries its vector
as a BSON float32 vector (``Binary`` subtype 9) under ``vs_<space key>`` (one field per space,
since a vector search index fixes ``numDimensions``), each space gets a ``vectorSearch`` index
with ``dataset_id`` and ``space`` as filter fields, and large spaces take their candidates from
it instead of building an index in every replica; the index follows the database's writes
itself, so every replica sees the same candidates. The record filter and the exact scores
still come from the service (``domain/similar.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from bson import Binary, ObjectId
from bson.binary import BinaryVectorDtype
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

Doc = dict[str, Any]
COLLECTION = "record_vectors"
SIMILARITY = {"cosine": "cosine", "dot": "dotProduct", "l2": "euclidean"}
CANDIDATES_PER_RESULT = 20
"""``numCandidates`` per result asked: MongoDB's documentation suggests at least 20 times the limit."""
MAX_CANDIDATES = 10_000
log = logging.getLogger("feedbackql_server.vectors")


def index_name(space_key: str) -> str:
    return f"fql_vectors_{space_key}"


def field_of(space_key: str) -> str:
    return f"vs_{space_key}"


def as_vector(values: bytes) -> Binary:
    """Little-endian float32 bytes as a BSON float32 vector."""
    return Binary(BinaryVectorDtype.FLOAT32.value + b"\x00" + values, subtype=9)


class MongoVectorSearch:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.vectors = db[COLLECTION]
        self.enabled = False
        self._indexed: set[str] = set()

    async def detect(self) -> bool:
        try:
            await self.vectors.aggregate([{"$listSearchIndexes": {}}])
        except OperationFailure:
            self.enabled = False
        else:
            self.enabled = True
            log.info("the database has $vectorSearch: large vector spaces use it")
        return self.enabled

    async def ensure_index(self, space_key: str, dimension: int, metric: str) -> None:
        if space_key in self._indexed:
            return
        definition = {"fields": [
            {"type": "vector", "path": field_of(space_key), "numDimensions": dimension,
             "similarity": SIMILARITY[metric]},
            {"type": "filter", "path": "dataset_id"},
            {"type": "filter", "path": "space"}]}
        try:
            await self.vectors.database.command({"createSearchIndexes": COLLECTION, "indexes": [
                {"name": index_name(space_key), "type": "vectorSearch", "definition": definition}]})
        except OperationFailure as exc:
            if "already exists" not in str(exc):
                raise
        self._indexed.add(space_key)

    async def nearest(self, dataset_id: ObjectId, space_key: str, query: list[float], count: int) -> list[ObjectId]:
        """Record ids nearest ``query``, nearest first (approximate)."""
        stage = {"index": index_name(space_key), "path": field_of(space_key), "queryVector": query,
                 "numCandidates": min(MAX_CANDIDATES, max(100, count * CANDIDATES_PER_RESULT)),
                 "limit": count, "filter": {"dataset_id": dataset_id, "space": space_key}}
        cursor = await self.vectors.aggregate([{"$vectorSearch": stage}, {"$project": {"record_id": 1}}])
        return [doc["record_id"] async for doc in cursor]
