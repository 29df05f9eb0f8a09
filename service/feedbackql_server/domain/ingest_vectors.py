"""New records and their vectors written at the same time, and no vector left behind for a
record that did not land.

Written one after the other, the vectors of a batch waited for its records: an ingest with
384-dimension vectors ran at about half the speed of the same records without them
(``docs/benchmarks.md``, "Find similar"). The records get their ids before they are inserted,
so both writes go at once (the database works on both; on FerretDB, PostgreSQL's second core).
A record refused (its external id taken by a record added meanwhile, or any other refusal)
then has its vectors deleted, and handed back to the caller, which writes them with the record
the batch finds instead (a re-add), as it writes those of records that existed already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bson import ObjectId

from feedbackql_server.domain.vectors import write_vectors
from feedbackql_server.storage import Storage
from feedbackql_server.storage.records import Inserted

Doc = dict[str, Any]


async def insert_with_vectors(storage: Storage, dataset_id: ObjectId, docs: Sequence[tuple[int, Doc]],
                              first_seq: int, vectors: dict[int, dict[str, bytes]]) -> Inserted:
    """Insert ``docs`` (batch index, record) numbered from ``first_seq`` and write the vectors
    ``vectors`` holds for them (by batch index) at once. The vectors written are taken out of
    ``vectors``; those of records that did not land are deleted from the database and left in
    it. Either write failing: the vectors of records that are not stored are deleted first."""
    ahead: dict[ObjectId, dict[str, bytes]] = {}
    index_of: dict[ObjectId, int] = {}
    for index, doc in docs:
        if index in vectors:
            doc.setdefault("_id", ObjectId())
            ahead[doc["_id"]] = vectors.pop(index)
            index_of[doc["_id"]] = index
    if not ahead:
        return await storage.records.insert(docs, first_seq)
    inserted, written = await asyncio.gather(storage.records.insert(docs, first_seq),
                                             write_vectors(storage, dataset_id, ahead), return_exceptions=True)
    if isinstance(inserted, BaseException):
        landed = {record["_id"] for record in await storage.records.by_ids(list(ahead))}
    else:
        landed = {record_id for _, record_id, *_ in inserted.records}
    stray = {record_id: keys for record_id, keys in ahead.items() if record_id not in landed}
    await storage.vectors.delete_of_records({record_id: list(keys) for record_id, keys in stray.items()})
    vectors.update({index_of[record_id]: keys for record_id, keys in stray.items()})
    for outcome in (inserted, written):
        if isinstance(outcome, BaseException):
            raise outcome
    assert isinstance(inserted, Inserted)
    return inserted
