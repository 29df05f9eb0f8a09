"""Record vectors: one document per (record, vector space), apart from the record.

Apart, so that a records page never carries embeddings (384 float32 are 1.5 KB a record, a
bucket read would double) and a vector can change without touching the record. Each write
takes numbers from the dataset's vector sequence (``vector_seqs``); a search compares the
sequence with what its in-process index has seen and reads only the documents written since
(``domain/vector_index.py``), so a replica follows the writes of every other replica of the
same database, and writes made straight into the database that take a number the same way.
Until its documents have landed, a write's numbers are marked pending in the sequence document
(``_reserve``), so that a reader knows what it may have to read again.

A vector is stored as the little-endian float32 bytes of its values (``Binary``): a quarter of
a BSON array of doubles, one field for FerretDB to decode, and no NaN/Infinity can be stored
(they are refused before: ``domain/vectors.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary, ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from feedbackql_server.size_limits import READ_BUDGET_BYTES
from feedbackql_server.storage.bounded import find_all
from feedbackql_server.storage.duplicates import BACKEND_SIGNS, is_duplicate_key
from feedbackql_server.storage.locks import KeyedLocks
from feedbackql_server.storage.lookups import a_few_at_a_time, find_each
from feedbackql_server.storage.paths import MONGODB
from feedbackql_server.storage.vector_search import COLLECTION, MongoVectorSearch, as_vector, field_of

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
SEQUENCES = "vector_seqs"
REPLACE_CONCURRENCY = 16
"""Vector documents updated at once by one write (each its own command: ``_replace``)."""
PENDING_EXPIRY = timedelta(minutes=2)
"""A reservation still pending after this is a writer that died: readers stop waiting for it."""
MAX_NUMBER_LOOKUPS = 2_000
"""Past this many numbers, a catch-up on FerretDB reads the dataset's vectors of the space
whole rather than number by number (``since``)."""


GONE = "gone"
"""Set on the tombstone of a deleted record's vector (``delete_of_records``)."""
Entry = tuple[ObjectId, bytes, str]
"""A vector to write: its record's id, its float32 bytes, its record's bucket (``buckets.py``)."""


@dataclass(frozen=True)
class StoredVector:
    record_id: ObjectId
    values: bytes
    seq: int


@dataclass(frozen=True)
class Sequenced:
    """The dataset's vector sequence as a catch-up reads it."""

    seq: int
    """The number the last reservation took (0: none)."""
    settled: int
    """Every number up to this one has landed: numbers above it may belong to writes whose
    documents are still on their way (the lowest ``from`` of the pending reservations)."""
    deletions: int = 0
    """Deletions of records' vectors so far (each counted before it deletes: a writer that
    sees it move while writing checks its records still exist, ``domain/vectors.py``)."""


def _settled(doc: Doc | None) -> Sequenced:
    if doc is None:
        return Sequenced(0, 0)
    seq = int(doc.get("seq", 0))
    cutoff = datetime.now(UTC) - PENDING_EXPIRY
    floors = [int(p["from"]) for p in doc.get("pending", []) if _aware(p["at"]) > cutoff]
    return Sequenced(seq, min([seq, *floors]), int(doc.get("deletions", 0)))


def _expired(doc: Doc | None) -> list[Doc]:
    cutoff = datetime.now(UTC) - PENDING_EXPIRY
    return [p for p in (doc or {}).get("pending", []) if _aware(p["at"]) <= cutoff]


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _duplicate_key(error: Doc) -> bool:
    """A bulk write's error for a unique key (FerretDB may quote its backend instead of 11000)."""
    return error.get("code") == DUPLICATE_KEY or any(sign in str(error.get("errmsg", "")) for sign in BACKEND_SIGNS)


def vector_id(record_id: ObjectId, space_key: str) -> str:
    return f"{record_id}:{space_key}"


class VectorRepo:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.vectors = db[COLLECTION]
        self.sequences = db[SEQUENCES]
        self.search = MongoVectorSearch(db)
        self.paths = MONGODB
        """Set by ``Storage.use``: whether an index serves ``since``'s range."""
        self.reserving = KeyedLocks()
        """Serializes this process's sequence reservations: ``$inc`` is an unisolated
        read-modify-write on FerretDB (``shared/DESIGN.md``), and two writers must never take
        the same numbers; on MongoDB the update is atomic across replicas as well."""

    async def prepare(self, *, every_index: bool) -> None:
        """The indexes a catch-up read and an export use on MongoDB (on FerretDB, GIN indexes
        serve its lookups by ``_id``, ``bucket`` and ``seq``: ``database/equality_indexes.py``)."""
        if every_index:
            await self.vectors.create_index([("dataset_id", 1), ("space", 1), ("seq", 1)])
            await self.vectors.create_index([("bucket", 1)])  # an export's page (of_buckets)
            await self.search.detect()

    async def version(self, dataset_id: ObjectId) -> Sequenced:
        """The dataset's vector sequence, and up to where every write has landed."""
        return _settled(await self.sequences.find_one({"_id": dataset_id}))

    async def write(self, dataset_id: ObjectId, space_key: str, entries: Sequence[Entry]) -> int:
        """Set the vectors of ``entries`` (record id, float32 bytes, the record's bucket) in one
        space; the sequence number the last one took.

        Inserted first, one command for all: most vectors are new (an ingest), and FerretDB
        takes about 20 ms per upsert but a fraction of a millisecond per inserted document
        (1,000 upserts: 11-27 s, the same 1,000 inserted: 0.3-0.5 s). Those whose document is
        there already are then updated."""
        if not entries:
            return (await self.version(dataset_id)).seq
        last, finished = await self._reserve(dataset_id, len(entries))
        try:
            await self._land(dataset_id, space_key, entries, last - len(entries) + 1)
        finally:  # a writer that dies before this leaves an entry that expires (PENDING_EXPIRY)
            await self.sequences.update_one({"_id": dataset_id}, {"$pullAll": {"pending": finished}})
        return last

    async def _land(self, dataset_id: ObjectId, space_key: str, entries: Sequence[Entry], first: int) -> None:
        now = datetime.now(UTC)
        docs = [{"_id": vector_id(record_id, space_key), "dataset_id": dataset_id, "space": space_key,
                 "record_id": record_id, "bucket": bucket, "v": Binary(values), "seq": first + offset,
                 "updated_at": now, **({field_of(space_key): as_vector(values)} if self.search.enabled else {})}
                for offset, (record_id, values, bucket) in enumerate(entries)]
        try:
            await self.vectors.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not all(_duplicate_key(e) for e in errors):
                raise
            await self._replace([docs[e["index"]] for e in errors])

    async def _replace(self, docs: Sequence[Doc]) -> None:
        """Update vector documents that exist (an upsert: one may be deleted meanwhile), one
        single-statement command each, ``REPLACE_CONCURRENCY`` at a time. Not one ``update``
        command of many statements: FerretDB 1.24 deadlocks when two such commands touch the same
        documents (two ``setRecordVectors`` or re-adds of the same records at once), and then
        answers nothing (``storage/records.py`` ``replace_content`` met the same)."""
        gate = asyncio.Semaphore(REPLACE_CONCURRENCY)

        async def replace_one(doc: Doc) -> None:
            update = {"$set": {k: v for k, v in doc.items() if k != "_id"}, "$unset": {GONE: ""}}
            async with gate:
                for attempt in (1, 2):
                    try:
                        await self.vectors.update_one({"_id": doc["_id"]}, update, upsert=True)
                        return
                    except OperationFailure as exc:
                        # Two upserts of a new (record, space) at once: one inserted, the
                        # other met its key; written again, it is an update.
                        if attempt == 2 or not is_duplicate_key(exc):
                            raise

        await asyncio.gather(*(replace_one(doc) for doc in docs))

    async def _reserve(self, dataset_id: ObjectId, count: int, *, deletion: bool = False) -> tuple[int, list[Doc]]:
        """The last of ``count`` new sequence numbers of the dataset, and the pending entries
        to take away once the write has landed: its own and any expired one. Its entry goes in
        with the numbers, in one update: a catch-up that sees the numbers sees that they may
        still be on their way (``from``: the sequence before them, read first) and reads above
        ``from`` again. A ``deletion`` is counted in the same update (``Sequenced.deletions``:
        under this process's lock, so that two deletions never count as one on FerretDB)."""
        async with self.reserving.hold(dataset_id):
            now = datetime.now(UTC)
            pending = {"from": (await self.version(dataset_id)).seq, "token": ObjectId(),
                       "at": now.replace(microsecond=now.microsecond // 1000 * 1000)}  # as BSON keeps it
            for attempt in (1, 2):
                try:
                    reserved = await self.sequences.find_one_and_update(
                        {"_id": dataset_id}, {"$inc": {"seq": count, **({"deletions": 1} if deletion else {})},
                                              "$push": {"pending": pending}}, upsert=True,
                        return_document=ReturnDocument.AFTER)
                    return (int(reserved["seq"]) if reserved else 0), [pending, *_expired(reserved)]
                except OperationFailure as exc:  # the first reservation, by two replicas at once
                    if attempt == 2 or not is_duplicate_key(exc):
                        raise
        raise AssertionError("unreachable")

    async def since(self, dataset_id: ObjectId, space_key: str, after_seq: int, dimension: int, *,
                    upto: int | None = None, held: int = 0) -> list[StoredVector]:
        """The space's vectors written after ``after_seq`` (all for 0), in batches that fit a
        wire message. ``upto``: the last number the sequence gave; ``held``: the vectors the
        caller holds. On FerretDB a range is evaluated after reading every vector of the
        dataset (a second or more at 20,000 vectors, whatever the range), so when few numbers
        follow ``after_seq`` (a catch-up after some writes: at most ``MAX_NUMBER_LOOKUPS``, and
        a quarter of what the caller holds) each is looked up by its own indexed equality."""
        projection = {"record_id": 1, "v": 1, "seq": 1}
        batch = max(1, READ_BUDGET_BYTES // (dimension * 4 + 200))
        numbers = range(after_seq + 1, (upto or 0) + 1)
        if after_seq and upto is not None and not self.paths.ranges_by_index \
                and len(numbers) <= min(MAX_NUMBER_LOOKUPS, max(64, held // 4)):
            docs = await find_each(self.vectors, "seq", numbers, also={"dataset_id": dataset_id, "space": space_key},
                                   projection=projection, batch_size=batch)
        else:
            selector: Doc = {"dataset_id": dataset_id, "space": space_key}
            if after_seq:
                selector["seq"] = {"$gt": after_seq}
            docs = await find_all(self.vectors, selector, projection, batch_size=batch)
        return [StoredVector(doc["record_id"], bytes(doc["v"]), int(doc["seq"])) for doc in docs]

    async def of_buckets(self, buckets: Sequence[str], largest: int) -> dict[ObjectId, dict[str, bytes]]:
        """The vectors of the records in ``buckets``, by record and space key: one indexed
        lookup per bucket (``lookups.py``), so a page of an export costs the same at any size.
        A bucket of 100 records is one read, not 100 (an export of 10,000 records with a
        384-dimension vector each read its vectors in 14.3 s record by record: see
        docs/vectors.md, Figures); ``largest``: the largest dimension, for the batch size."""
        found: dict[ObjectId, dict[str, bytes]] = {}
        projection = {"_id": 0, "record_id": 1, "space": 1, "v": 1}
        batch = max(1, READ_BUDGET_BYTES // (largest * 4 + 200))
        for doc in await find_each(self.vectors, "bucket", buckets, projection=projection, batch_size=batch):
            if doc["v"]:  # not a deleted record's (``delete_of_records``)
                found.setdefault(doc["record_id"], {})[doc["space"]] = doc["v"]
        return found

    async def of_record(self, record_id: ObjectId, space_key: str) -> bytes | None:
        doc = await self.vectors.find_one({"_id": vector_id(record_id, space_key)}, {"v": 1})
        return bytes(doc["v"]) if doc and doc["v"] else None

    async def delete_of_records(self, dataset_id: ObjectId, record_ids: Sequence[ObjectId],
                                space_keys: Sequence[str]) -> None:
        """Delete the vectors of deleted records, after counting the deletion
        (``Sequenced.deletions``). Each keeps its document as a tombstone: no values (``v``
        empty, ``gone``), and a new number of the sequence, so that every process's copy of the
        space drops the row at its next catch-up (``domain/vector_index.py``) and its saved
        copy with it. By ``_id``, one command each, ``REPLACE_CONCURRENCY`` at a time (an
        ``$in`` on FerretDB reads every vector document); a record without a vector in a space
        leaves its number unused."""
        targets = [vector_id(record_id, key) for record_id in record_ids for key in space_keys]
        if not targets:
            return
        last, finished = await self._reserve(dataset_id, len(targets), deletion=True)
        now = datetime.now(UTC)

        def tombstone(vector: str, seq: int) -> Doc:
            change: Doc = {"$set": {"v": Binary(b""), GONE: True, "seq": seq, "updated_at": now}}
            if self.search.enabled:
                change["$unset"] = {field_of(vector.rsplit(":", 1)[1]): ""}
            return change

        try:
            first = last - len(targets) + 1
            await a_few_at_a_time((self.vectors.update_one({"_id": vector}, tombstone(vector, first + offset))
                                   for offset, vector in enumerate(targets)), REPLACE_CONCURRENCY)
        finally:
            await self.sequences.update_one({"_id": dataset_id}, {"$pullAll": {"pending": finished}})

    async def delete_ids(self, vector_ids: Sequence[str]) -> None:
        """Delete vector documents outright (a removed space's, ``feedbackql check``'s strays)."""
        await a_few_at_a_time((self.vectors.delete_one({"_id": vector}) for vector in vector_ids),
                              REPLACE_CONCURRENCY)

    async def delete_space(self, dataset_id: ObjectId, space_key: str) -> None:
        await self.vectors.delete_many({"dataset_id": dataset_id, "space": space_key})

    async def delete_dataset(self, dataset_id: ObjectId) -> None:
        await self.vectors.delete_many({"dataset_id": dataset_id})
        await self.sequences.delete_one({"_id": dataset_id})

    async def placed(self, dataset_id: ObjectId) -> list[tuple[str, ObjectId, str]]:
        """Every vector of the dataset, deleted records' tombstones left out, as (its ``_id``,
        record, space key): a whole read, for ``feedbackql check``."""
        docs = await find_all(self.vectors, {"dataset_id": dataset_id}, {"record_id": 1, "space": 1, GONE: 1},
                              batch_size=0)
        return [(str(doc["_id"]), doc["record_id"], str(doc["space"])) for doc in docs if not doc.get(GONE)]

    async def orphans(self, dataset_ids: Collection[ObjectId]) -> list[ObjectId]:
        """Datasets, not among ``dataset_ids``, that vectors are kept for."""
        groups = await self.vectors.aggregate([{"$group": {"_id": "$dataset_id"}}])
        return [doc["_id"] async for doc in groups if doc["_id"] not in dataset_ids]
