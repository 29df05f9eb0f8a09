"""The stored layout's version, and the migration of data written by earlier versions.

Version 2 numbers every record in insertion order and puts it (and its responses) in a
bucket (``buckets.py``);
the queue's fields (``queue.py``) came before it and are filled in on the way. (Progress
counters of datasets that have none are counted by ``domain/datasets.count_uncounted``.) Run at
start-up, before anything is served; it reads each dataset once and does nothing further
once the database is at the current version.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.storage.buckets import placed
from feedbackql_server.storage.queue import QUEUE_DEFAULTS

Doc = dict[str, Any]
LAYOUT_VERSION = 2
CONCURRENCY = 16
log = logging.getLogger("feedbackql_server.storage")


async def layout_version(db: AsyncDatabase[Doc]) -> int:
    doc = await db["meta"].find_one({"_id": "layout"})
    return int(doc["version"]) if doc else 1


async def migrate(db: AsyncDatabase[Doc]) -> None:
    if await layout_version(db) >= LAYOUT_VERSION:
        return
    async for dataset in db["datasets"].find({}, {"_id": 1}):
        count = await _number_records(db, dataset["_id"])
        await db["datasets"].update_one({"_id": dataset["_id"]}, {"$set": {"next_seq": count}})
        log.info("numbered the %d records of dataset %s", count, dataset["_id"])
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
