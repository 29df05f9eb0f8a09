"""The stored layout's version, and the migration of data written by earlier versions.

Version 2 numbers every record in insertion order and puts it (and its responses) in a
bucket (``buckets.py``);
the queue's fields (``queue.py``) came before it and are filled in on the way. Version 3
keeps a record's fields and suggestions packed in one string (``content.py``). Version 4 moves
each labeler's progress counters out of the dataset document (``tallies.py``). Version 5 replaces each record's
``search_text`` by the distinct words text search looks records up by, ``search_tokens``
(``search_words.py``). Version 6 keeps the suggestions' scores beside the packed content,
``suggestion_scores``, for the pages sorted by a score (``content.py``). Version 7 gives each
record the keys filters by response status and metadata are pushed down by,
``response_keys`` and ``metadata_keys`` (``filter_keys.py``). Version 8 gives each
vector document its record's ``bucket``, which an export reads a page's vectors by
(``vectors.py``). Version 9 adds to ``metadata_keys`` a band key per number, and
stores which bands each dataset's records have, which ranges are looked up by
(``metadata_bands.py``). (Progress
counters of datasets that have none are counted by ``domain/datasets.count_uncounted``.) Run at
start-up, before anything is served; it reads each dataset once and does nothing further
once the database is at the current version.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.documents import RESPONSE_STATUSES, DatasetDoc
from feedbackql_server.paging import SCORES
from feedbackql_server.storage.buckets import placed, walk
from feedbackql_server.storage.content import CONTENT, PACKED, pack, scores_of, unpack
from feedbackql_server.storage.filter_keys import METADATA_KEYS, RESPONSE_KEYS, metadata_keys, response_keys
from feedbackql_server.storage.metadata_bands import MetadataBands
from feedbackql_server.storage.queue import QUEUE_DEFAULTS
from feedbackql_server.storage.search_words import words
from feedbackql_server.storage.tallies import USERS, TallyRepo
from feedbackql_server.storage.vectors import vector_id

Doc = dict[str, Any]
LAYOUT_VERSION = 9
CONCURRENCY = 16
log = logging.getLogger("feedbackql_server.storage")


class NewerLayout(RuntimeError):
    """The database was brought to a layout this version does not know: it would write records
    without what that layout added (their filter keys, say), which the newer version's reads miss."""


async def layout_version(db: AsyncDatabase[Doc]) -> int:
    doc = await db["meta"].find_one({"_id": "layout"})
    return int(doc["version"]) if doc else 1


async def migrate(db: AsyncDatabase[Doc]) -> None:
    """Each step is idempotent: a start-up cut short runs them again."""
    version = await layout_version(db)
    if version > LAYOUT_VERSION:
        raise NewerLayout(f"this database was brought to layout {version} by a newer FeedbackQL, and this version "
                          f"knows layouts up to {LAYOUT_VERSION}: records it wrote would lack what the newer one "
                          "reads them by; run the newer version (docs/operations.md, \"Upgrading\")")
    if version == LAYOUT_VERSION:
        return
    tallies = TallyRepo(cast(AsyncCollection[DatasetDoc], db["datasets"]), db["user_tallies"])
    async for dataset in db["datasets"].find({}, {"_id": 1, "next_seq": 1, "tally": 1, "vector_spaces": 1}):
        next_seq = dataset.get("next_seq", 0)
        if version < 2:
            next_seq = await _number_records(db, dataset["_id"])
            await db["datasets"].update_one({"_id": dataset["_id"]}, {"$set": {"next_seq": next_seq}})
            log.info("numbered the %d records of dataset %s", next_seq, dataset["_id"])
        if version < 3:
            packed = await _pack_contents(db, dataset["_id"], next_seq)
            log.info("packed the content of %d records of dataset %s", packed, dataset["_id"])
        users = dataset.get("tally", {}).get(USERS)
        if version < 4 and users is not None:
            await tallies.set_users(dataset["_id"], users)
            await db["datasets"].update_one({"_id": dataset["_id"]}, {"$unset": {f"tally.{USERS}": ""}})
            log.info("moved the counters of %d labelers of dataset %s", len(users), dataset["_id"])
        if version < 5:
            indexed = await _index_words(db, dataset["_id"], next_seq)
            log.info("indexed the words of %d records of dataset %s", indexed, dataset["_id"])
        if version < 6:
            scored = await _keep_scores(db, dataset["_id"], next_seq)
            log.info("kept the suggestion scores of %d records of dataset %s", scored, dataset["_id"])
        if version < 9:  # layout 7's keys, with layout 9's bands
            keyed = await _keep_filter_keys(db, dataset["_id"], next_seq)
            log.info("gave %d records of dataset %s their filter keys", keyed, dataset["_id"])
        if version < 8 and dataset.get("vector_spaces"):
            moved = await _bucket_vectors(db, dataset["_id"], next_seq, [s["key"] for s in dataset["vector_spaces"]])
            log.info("gave %d vector documents of dataset %s their bucket", moved, dataset["_id"])
    await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": LAYOUT_VERSION}}, upsert=True)


async def _number_records(db: AsyncDatabase[Doc], dataset_id: Any) -> int:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def place(record: Doc, seq: int) -> None:
        changes = placed(dataset_id, seq)
        if "state_version" not in record:
            changes.update({**QUEUE_DEFAULTS, "submitted_count": len(record.get("submitted_by", []))})
        async with gate:
            await db["records"].update_one({"_id": record["_id"]}, {"$set": changes})
            await db["responses"].update_many({"record_id": record["_id"]}, {"$set": {"bucket": changes["bucket"]}})

    cursor = db["records"].find({"dataset_id": dataset_id},
                                {"_id": 1, "state_version": 1, "submitted_by": 1}).sort("_id", 1)
    records = await cursor.to_list()
    await asyncio.gather(*(place(record, seq) for seq, record in enumerate(records)))
    return len(records)


async def _pack_contents(db: AsyncDatabase[Doc], dataset_id: Any, next_seq: int) -> int:
    """Move each record's fields and suggestions into ``content``, a bucket at a time. A
    record that has ``content`` already (written meanwhile by a newer replica) is left alone."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def pack_one(record: Doc) -> None:
        content = pack({"fields": record.get("fields", {}), "suggestions": record.get("suggestions", [])})
        async with gate:
            await db["records"].update_one({"_id": record["_id"], CONTENT: {"$exists": False}},
                                           {"$set": content, "$unset": dict.fromkeys(PACKED, "")})

    packed = 0
    projection = {"seq": 1, **dict.fromkeys(PACKED, 1), CONTENT: 1}
    async for records in walk(db["records"], dataset_id, next_seq, projection=projection):
        unpacked = [record for record in records if CONTENT not in record]
        await asyncio.gather(*(pack_one(record) for record in unpacked))
        packed += len(unpacked)
    return packed


async def _index_words(db: AsyncDatabase[Doc], dataset_id: Any, next_seq: int) -> int:
    """Give records written before layout 5 their ``search_tokens``, a bucket at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def index_one(record: Doc) -> None:
        async with gate:
            await db["records"].update_one({"_id": record["_id"]}, {
                "$set": {"search_tokens": words(record["search_text"])}, "$unset": {"search_text": ""}})

    indexed = 0
    async for records in walk(db["records"], dataset_id, next_seq, projection={"seq": 1, "search_text": 1}):
        old = [record for record in records if isinstance(record.get("search_text"), str)]
        await asyncio.gather(*(index_one(record) for record in old))
        indexed += len(old)
    return indexed


async def _keep_scores(db: AsyncDatabase[Doc], dataset_id: Any, next_seq: int) -> int:
    """Give records written before layout 6 their ``suggestion_scores``, a bucket at a time
    (a sort by score would otherwise place them among the records without one, while their
    cursors carry their score)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def keep_one(record: Doc) -> None:
        scores = scores_of(unpack(record).get("suggestions", []))
        async with gate:
            await db["records"].update_one({"_id": record["_id"], SCORES: {"$exists": False}},
                                           {"$set": {SCORES: scores}})

    kept = 0
    async for records in walk(db["records"], dataset_id, next_seq, projection={"seq": 1, CONTENT: 1, SCORES: 1}):
        old = [record for record in records if SCORES not in record and isinstance(record.get(CONTENT), str)]
        await asyncio.gather(*(keep_one(record) for record in old))
        kept += len(old)
    return kept


async def _keep_filter_keys(db: AsyncDatabase[Doc], dataset_id: Any, next_seq: int) -> int:
    """Give records written before layout 7 their ``response_keys`` and ``metadata_keys``
    (and before layout 9 their bands' keys, and the dataset its stored bands), a bucket at a
    time. A record without responses or metadata needs none (no key is no match). Each write is
    conditional on the state and content read: a record a newer replica wrote meanwhile has its
    keys from that write."""
    gate = asyncio.Semaphore(CONCURRENCY)
    bands = MetadataBands(db["metadata_bands"])

    async def key_one(record: Doc, keys: Doc) -> None:
        selector = {"_id": record["_id"], "state_version": record.get("state_version", 0)}
        if "content_hash" in record:
            selector["content_hash"] = record["content_hash"]
        async with gate:
            await db["records"].update_one(selector, {"$set": keys})

    keyed = 0
    lists = [f"{status}_by" for status in RESPONSE_STATUSES]
    projection = dict.fromkeys(["seq", "metadata", "state_version", "content_hash", RESPONSE_KEYS, METADATA_KEYS,
                                *lists], 1)
    async for records in walk(db["records"], dataset_id, next_seq, projection=projection):
        await bands.register(dataset_id, [record.get("metadata") for record in records])
        wanted = [(record, {RESPONSE_KEYS: response_keys(record), METADATA_KEYS: metadata_keys(record.get("metadata"))})
                  for record in records]
        stale = [(record, keys) for record, keys in wanted
                 if any((record.get(name) or []) != value for name, value in keys.items())]
        await asyncio.gather(*(key_one(record, keys) for record, keys in stale))
        keyed += len(stale)
    return keyed


async def _bucket_vectors(db: AsyncDatabase[Doc], dataset_id: Any, next_seq: int, space_keys: list[str]) -> int:
    """Give vector documents written before layout 8 their record's ``bucket``, a bucket of
    records at a time, one update by ``_id`` each (``update_many`` races with writes on FerretDB)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def place_one(record: Doc, key: str) -> int:
        async with gate:
            result = await db["record_vectors"].update_one(
                {"_id": vector_id(record["_id"], key), "bucket": {"$exists": False}},
                {"$set": {"bucket": record["bucket"]}})
            return result.modified_count

    moved = 0
    async for records in walk(db["records"], dataset_id, next_seq, projection={"seq": 1, "bucket": 1}):
        moved += sum(await asyncio.gather(*(place_one(record, key) for record in records for key in space_keys)))
    return moved
