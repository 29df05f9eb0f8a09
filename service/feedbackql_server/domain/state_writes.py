"""The one path that changes a record's work state and the counters that follow from it.

Answers, leases, a change of ``minSubmitted`` and repairs all write a record's state here,
one record at a time, never with a multi-document update (``storage/queue.py`` says why).
Two things protect a write, each against a different writer:

- the caller holds the record's in-process lock (``storage.record_locks``): on FerretDB, whose
  updates are unisolated, it is what keeps two writers of this process apart;
- ``set_state`` is compare-and-set on ``state_version`` with MongoDB's paths
  (``storage/paths.py``): a writer in another replica that wrote in between makes it miss, and
  the change is computed again from a fresh read.

The state is read first and the dataset after it: a ``minSubmitted`` change is written to the
dataset before its pass rewrites the records (``domain/datasets.py``), so a writer either reads
the new minimum or reads a state the pass has not yet rewritten (and then misses its
compare-and-set, or holds the lock the pass waits for). The counters move by the difference
of the record's contribution before and after (``domain/tally.py``), each part counted with the
minimum it was derived with, so they stay equal to a recount whatever interleaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from bson import ObjectId

from feedbackql_server.documents import RecordDoc
from feedbackql_server.domain import tally, work_state
from feedbackql_server.errors import NotFound
from feedbackql_server.storage import Storage
from feedbackql_server.storage.buckets import BUCKET_SIZE

Doc = dict[str, Any]
ATTEMPTS = 20
Compute = Callable[[RecordDoc, int], "Doc | None"]
"""The changes to a record's state given the state and the current ``minSubmitted``; None
when there is nothing to write."""


class Gone(NotFound):
    """The record, or its dataset, was deleted (or is being deleted) meanwhile."""


async def write(storage: Storage, before: RecordDoc, changes: Doc, min_submitted: int) -> RecordDoc | None:
    """Write ``changes`` if the record is still as read in ``before``, then move the counters
    by the change; the state written, or None when another writer came first."""
    if not await storage.queue.set_state(before, changes):
        return None
    after = cast(RecordDoc, {**before, **changes})
    await storage.tallies.add(before["dataset_id"], tally.change(before, after, min_submitted))
    return cast(RecordDoc, {**after, "state_version": before.get("state_version", 0) + 1})


async def update(storage: Storage, record_id: ObjectId, compute: Compute) -> RecordDoc | None:
    """Read, compute, write until the write lands (the caller holds the record's lock); the
    state written, or None when there was nothing to change. ``Gone`` when the record or its
    dataset is deleted or being deleted."""
    for _ in range(ATTEMPTS):
        record = await storage.queue.state(record_id)
        dataset = await storage.datasets.get(record["dataset_id"]) if record else None
        if record is None or dataset is None or dataset.get("deleting"):
            raise Gone(f"record {record_id} was deleted")
        min_submitted = dataset["distribution"]["min_submitted"]
        changes = compute(record, min_submitted)
        if changes is None:
            return None
        written = await write(storage, record, changes, min_submitted)
        if written is not None:
            return written
    raise RuntimeError(f"record {record_id} kept changing while its state was written")


async def rebuild(storage: Storage, record_id: ObjectId) -> RecordDoc | None:
    """Make the record's state what its responses say (the caller holds its lock): after a
    crash or a failure between a response and its record, or whatever else put them out of
    step. The state is read before the responses, so a response written after that read is
    applied by its own writer (its version is newer than the one written here). The state
    written; None when it was in step, or the record or its dataset is gone (then its
    responses go too)."""
    for _ in range(ATTEMPTS):
        record = await storage.queue.state(record_id)
        dataset = await storage.datasets.get(record["dataset_id"]) if record else None
        if record is None or dataset is None or dataset.get("deleting"):
            await storage.responses.delete_for_records([record_id])
            return None
        responses = await storage.responses.all_of_record(record_id)
        now = datetime.now(UTC)
        min_submitted = dataset["distribution"]["min_submitted"]
        expected = work_state.rebuilt(responses, min_submitted, work_state.live_leases(record, now))
        if not work_state.differences(record, expected, now):
            return None
        written = await write(storage, record, expected, min_submitted)
        if written is not None:
            return written
    raise RuntimeError(f"record {record_id} kept changing while it was brought in step")


RESTATUS_CONCURRENCY = 8


async def restatus_dataset(storage: Storage, dataset_id: ObjectId) -> int:
    """Derive every record's status again from the dataset's current ``minSubmitted`` (after
    it changed), a bucket at a time; how many records changed.

    Per bucket, the records to change are locked, their states read, then the dataset (the
    order ``update`` keeps, read once for the bucket instead of once per record), then each
    is written compare-and-set; one that another replica wrote meanwhile goes through
    ``update`` again. A 2,000-record pass reading the dataset per record took 23 s here."""
    dataset = await storage.datasets.get(dataset_id)
    if dataset is None:
        return 0
    changed = 0
    for number in range((dataset.get("next_seq", 0) - 1) // BUCKET_SIZE + 1):
        states = await storage.queue.in_bucket(dataset_id, number)
        minimum = dataset["distribution"]["min_submitted"]
        stale = [s["_id"] for s in states if work_state.restatus(s, minimum, datetime.now(UTC)) is not None]
        if stale:
            changed += await _restatus_bucket(storage, dataset_id, number, stale)
    return changed


async def _restatus_bucket(storage: Storage, dataset_id: ObjectId, number: int, stale: list[ObjectId]) -> int:
    gate = asyncio.Semaphore(RESTATUS_CONCURRENCY)

    def compute(record: RecordDoc, min_submitted: int) -> Doc | None:
        return work_state.restatus(record, min_submitted, datetime.now(UTC))

    async def one(state: RecordDoc, min_submitted: int) -> bool:
        async with gate:
            changes = compute(state, min_submitted)
            if changes is None:
                return False
            if await write(storage, state, changes, min_submitted) is not None:
                return True
            try:
                return await update(storage, state["_id"], compute) is not None
            except Gone:
                return False

    async with storage.record_locks.hold(stale):
        wanted = set(stale)
        states = [s for s in await storage.queue.in_bucket(dataset_id, number) if s["_id"] in wanted]
        dataset = await storage.datasets.get(dataset_id)
        if dataset is None or dataset.get("deleting"):
            return 0
        minimum = dataset["distribution"]["min_submitted"]
        return sum(await asyncio.gather(*(one(state, minimum) for state in states)))


async def delete(storage: Storage, record_id: ObjectId, dataset_id: ObjectId,
                 min_submitted: int) -> RecordDoc | None:
    """Delete the record (if it is the dataset's), then its responses, and take its part out
    of the counters; the state deleted. Under the record's lock and compare-and-set like any
    state write, so that an answer written meanwhile is either counted in the state removed or
    finds the record gone and takes its response back (``domain/responses.py``)."""
    async with storage.record_locks.hold([record_id]):
        for _ in range(ATTEMPTS):
            record = await storage.queue.state(record_id)
            if record is None or record["dataset_id"] != dataset_id:
                return None
            if await storage.queue.delete(record):
                await storage.responses.delete_for_records([record_id])
                await storage.tallies.add(dataset_id, tally.removal(record, min_submitted))
                return record
    raise RuntimeError(f"record {record_id} kept changing while it was deleted")
