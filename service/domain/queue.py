"""Handing out work: each labeler gets pending records they have not answered, leased to
them so that concurrent labelers get distinct records whenever enough exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from feedbackql.domain import work_state
from feedbackql.errors import Invalid
from feedbackql.storage import Storage

Doc = dict[str, Any]
MAX_NEXT_RECORDS = 100
# Candidates read per attempt beyond those asked for: concurrent labelers take some of them.
SPARE_CANDIDATES = 20
ATTEMPTS = 3


async def next_records(storage: Storage, dataset: Doc, user_id: ObjectId, first: int,
                       lease_seconds: float) -> list[Doc]:
    """Up to ``first`` records leased to the user: the ones they hold already, then fresh
    ones, closest to completion first."""
    if not 1 <= first <= MAX_NEXT_RECORDS:
        raise Invalid(f"first is between 1 and {MAX_NEXT_RECORDS}", ["first"])
    user_key = str(user_id)
    now = datetime.now(UTC)
    until = now + timedelta(seconds=lease_seconds)
    min_submitted = dataset["distribution"]["min_submitted"]
    leased: list[ObjectId] = []
    held = await storage.queue.held_by(dataset["_id"], user_key, now)
    for _ in range(ATTEMPTS):
        candidates = held or await storage.queue.candidates(
            dataset["_id"], user_key, now, first - len(leased) + SPARE_CANDIDATES)
        held = []
        for record in candidates:
            if len(leased) == first:
                break
            if await _lease(storage, record["_id"], user_key, until, min_submitted):
                leased.append(record["_id"])
        if len(leased) == first or not candidates:
            break
    docs = {doc["_id"]: doc for doc in await storage.records.by_ids(leased)}
    return [docs[i] for i in leased if i in docs]


async def _lease(storage: Storage, record_id: ObjectId, user_key: str, until: datetime,
                 min_submitted: int) -> bool:
    async with storage.record_locks.hold([record_id]):
        record = await storage.queue.state(record_id)
        if record is None:
            return False
        changes = work_state.with_lease(record, user_key, until, min_submitted, datetime.now(UTC))
        return changes is not None and await storage.queue.set_state(record, changes)

