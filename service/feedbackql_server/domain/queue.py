"""Handing out work: each labeler gets pending records they have not answered, leased to
them so that concurrent labelers get distinct records whenever enough exist.

The queue is read in insertion order, a bucket of records at a time (``storage/buckets.py``):
each read is one equality lookup, so its cost does not grow with the dataset. One process
keeps, per dataset, a pool of the first ``POOL_SIZE`` pending records from the first bucket
that still holds any (``low``), read again in the background once it is ``POOL_SECONDS`` old
(the caller goes on with the old pool; only a labeler it has nothing left for waits for a
read, and labelers who run dry together share one) and updated in place by every lease
attempt. The pool only proposes: each lease re-reads the record's state by id and
is written under the record's lock, so a stale pool costs a failed attempt, never a wrong
lease. A labeler the pool has nothing for walks on past it, from where their last walk ended.
Answers that make a record pending again move ``low`` back to its bucket (``reopen``); a
revision every ``REWIND_SECONDS`` catches those made through another replica.

A record a labeler skipped (``release`` with ``skip_until``) is offered to that labeler only
once nothing else is open to them, in the pool or past it, until the skip ends: a skip sends
it to the end of their queue instead of handing it straight back after the next one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc
from feedbackql_server.domain import state_writes, work_state
from feedbackql_server.errors import Invalid
from feedbackql_server.storage import Storage
from feedbackql_server.storage.buckets import BUCKET_SIZE
from feedbackql_server.storage.queue import STATE_FIELDS

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

log = logging.getLogger("feedbackql_server.queue")
MAX_NEXT_RECORDS = 100
POOL_SIZE = 1000
MAX_POOLS = 256
"""Datasets whose pools a process keeps (the least recently used go first): each holds up to
``POOL_SIZE`` records' state, and a process may see many datasets over its life."""
LEASE_FIELDS = ("leases", "saturated_until", "skips")
"""What a lease writes: never the status, which follows answers and ``minSubmitted`` alone."""
POOL_SECONDS = 5.0
REWIND_SECONDS = 300.0
MAX_SKIP_MINUTES = 24 * 60


@dataclass
class Pool:
    records: list[RecordDoc] = field(default_factory=list)
    by_id: dict[ObjectId, RecordDoc] = field(default_factory=dict)
    """The same entries as ``records``, by id."""
    read_at: float = float("-inf")
    rewound_at: float = field(default_factory=time.monotonic)
    low: int = 0
    """The first bucket that may hold pending records."""
    high: int = 0
    """The first bucket past the pool."""
    walked: dict[str, int] = field(default_factory=dict)
    """Per labeler: the bucket their last walk past the pool ended at."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def reopen(self, bucket: int) -> None:
        self.low = min(self.low, bucket)
        self.walked.clear()


class QueuePools:
    """Per-process pools of candidate records, one per dataset; at most ``limit``, the least
    recently used dropped first, and a deleted dataset's dropped at once (``forget``)."""

    def __init__(self, limit: int = MAX_POOLS) -> None:
        self.pools: OrderedDict[ObjectId, Pool] = OrderedDict()
        self.limit = limit
        self._refreshing: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references

    def reopen(self, dataset_id: ObjectId, seq: int) -> None:
        """A record (numbered ``seq``) may be pending again: the queue looks at it again."""
        pool = self.pools.get(dataset_id)
        if pool is not None:
            pool.reopen(seq // BUCKET_SIZE)

    def observe(self, dataset_id: ObjectId, state: RecordDoc) -> None:
        """A record's state as this process just wrote it: its pool entry (if any) follows,
        so that the next call does not offer a record its labeler has just answered."""
        pool = self.pools.get(dataset_id)
        entry = pool.by_id.get(state["_id"]) if pool is not None else None
        if entry is not None:
            entry.update(state)

    async def forget(self, dataset_id: ObjectId) -> None:
        """The dataset is deleted: its pool goes."""
        self.pools.pop(dataset_id, None)

    def rewind(self, dataset_id: ObjectId) -> None:
        """Every record may be pending again (``minSubmitted`` changed)."""
        self.reopen(dataset_id, 0)

    async def get(self, storage: Storage, dataset: DatasetDoc, *, dry: bool = False) -> Pool:
        """The dataset's pool: read first if it never was, or if it ran dry for the caller and
        nobody has read it since the caller asked; read again in the background when old."""
        pool = self._pool(dataset["_id"])
        asked = time.monotonic()
        if asked - pool.rewound_at > REWIND_SECONDS:
            pool.reopen(0)
            pool.rewound_at = asked
        if pool.read_at == float("-inf") or (dry and pool.read_at < asked):
            await _read_if_older(storage, dataset, pool, asked)
        elif asked - pool.read_at > POOL_SECONDS and not pool.lock.locked():
            refresh = asyncio.ensure_future(_refresh(storage, dataset, pool))
            self._refreshing.add(refresh)
            refresh.add_done_callback(self._refreshing.discard)
        return pool

    def _pool(self, dataset_id: ObjectId) -> Pool:
        pool = self.pools.get(dataset_id)
        if pool is None:
            pool = self.pools[dataset_id] = Pool()
            while len(self.pools) > self.limit:
                self.pools.popitem(last=False)
        self.pools.move_to_end(dataset_id)
        return pool


async def _read_if_older(storage: Storage, dataset: DatasetDoc, pool: Pool, than: float) -> None:
    """Read the pool unless a read that began after ``than`` has finished meanwhile."""
    async with pool.lock:  # concurrent labelers share one read
        if pool.read_at < than:
            started = time.monotonic()
            await _read(storage, dataset, pool)
            pool.read_at = started


async def _refresh(storage: Storage, dataset: DatasetDoc, pool: Pool) -> None:
    try:
        await _read_if_older(storage, dataset, pool, time.monotonic() - POOL_SECONDS)
    except Exception:  # the next call tries again; leases never depend on the pool being fresh
        log.warning("reading the labeler queue's pool failed", exc_info=True)


async def _read(storage: Storage, dataset: DatasetDoc, pool: Pool) -> None:
    last = (dataset.get("next_seq", 0) - 1) // BUCKET_SIZE
    records: list[RecordDoc] = []
    number, first_pending = pool.low, None
    while number <= last and len(records) < POOL_SIZE:
        found = await storage.queue.pending_in_bucket(dataset["_id"], number)
        if found and first_pending is None:
            first_pending = number
        records.extend(found)
        number += 1
    pool.low = first_pending if first_pending is not None else number
    pool.high = number
    pool.records = sorted(records, key=lambda record: (-record["submitted_count"], record["seq"]))
    pool.by_id = {record["_id"]: record for record in pool.records}


def _holds(record: RecordDoc, user_key: str, now: datetime) -> bool:
    if not record.get("leases"):  # most records: no lease to look through
        return False
    return any(lease["user"] == user_key for lease in work_state.live_leases(record, now))


def _open_to(record: RecordDoc, user_key: str, now: datetime) -> bool:
    """Whether, as far as the pool knows, the record can go to the user."""
    if record["status"] != "pending":
        return False
    if _holds(record, user_key, now):
        return True
    return bool(record["saturated_until"] <= now) and not work_state.answered(record, user_key)


def _ranked_for(records: list[RecordDoc], user_key: str, now: datetime,
                later: list[RecordDoc] | None = None) -> Iterator[RecordDoc]:
    """Records the user holds first, then those with room that they have not answered nor
    skipped; the skipped ones go to ``later`` (offered when nothing else is).

    Lazily: a call needs a few records of a pool of a thousand, and ranking the whole pool
    for every call was a sixth of a labeler loop's time."""
    held = [record for record in records if _holds(record, user_key, now)]
    yield from held
    for record in records:
        if not _open_to(record, user_key, now) or _holds(record, user_key, now):
            continue
        if work_state.skipped(record, user_key, now):
            if later is not None:
                later.append(record)
            continue
        yield record


async def next_records(services: Services, dataset: DatasetDoc, user_id: ObjectId, first: int) -> list[RecordDoc]:
    """Up to ``first`` records leased to the user: the ones they hold already, then fresh
    ones, closest to completion first among the first pending records."""
    storage, pools, lease_seconds = services.storage, services.queue_pools, services.limits.lease_seconds
    if not 1 <= first <= MAX_NEXT_RECORDS:
        raise Invalid(f"first is between 1 and {MAX_NEXT_RECORDS}", ["first"])
    user_key = str(user_id)
    now = datetime.now(UTC)
    until = now + timedelta(seconds=lease_seconds)
    min_submitted = dataset["distribution"]["min_submitted"]
    later: list[RecordDoc] = []
    pool = await pools.get(storage, dataset)
    ranked = _ranked_for(pool.records, user_key, now, later)
    best = next(ranked, None)
    if best is None:
        later.clear()
        pool = await pools.get(storage, dataset, dry=True)
        ranked = _ranked_for(pool.records, user_key, now, later)
    else:
        ranked = itertools.chain([best], ranked)
    leased = await _lease_some(storage, ranked, first, user_key, until, min_submitted)
    if len(leased) < first:
        leased += await _walk_past_pool(storage, pool, dataset, first - len(leased), user_key, until,
                                        min_submitted, later)
    if len(leased) < first:  # nothing else is open to them: what they skipped, soonest skip first
        later.sort(key=lambda record: _skip_ends(record, user_key))
        leased += await _lease_some(storage, later, first - len(leased), user_key, until, min_submitted)
    return leased


async def lease_candidates(storage: Storage, dataset: DatasetDoc, candidates: Iterable[RecordDoc], first: int,
                           user_id: ObjectId, lease_seconds: float) -> list[RecordDoc]:
    """Up to ``first`` of ``candidates`` (whole records, in the caller's order) leased to the
    user, through the same checks and writes as ``next_records``."""
    until = datetime.now(UTC) + timedelta(seconds=lease_seconds)
    return await _lease_some(storage, candidates, first, str(user_id), until,
                             dataset["distribution"]["min_submitted"])


def _skip_ends(record: RecordDoc, user_key: str) -> datetime:
    return min(skip["until"] for skip in record.get("skips", []) if skip["user"] == user_key)


async def _walk_past_pool(storage: Storage, pool: Pool, dataset: DatasetDoc, wanted: int, user_key: str,
                          until: datetime, min_submitted: int, later: list[RecordDoc]) -> list[RecordDoc]:
    """Lease from the buckets after the pool, from where this labeler's last walk ended:
    for a labeler who has answered everything the pool holds (skipped records go to ``later``)."""
    last = (dataset.get("next_seq", 0) - 1) // BUCKET_SIZE
    number = max(pool.high, pool.walked.get(user_key, 0))
    leased: list[RecordDoc] = []
    while number <= last and len(leased) < wanted:
        found = await storage.queue.pending_in_bucket(dataset["_id"], number)
        open_records = _ranked_for(found, user_key, datetime.now(UTC), later)
        leased += await _lease_some(storage, open_records, wanted - len(leased), user_key, until, min_submitted)
        if len(leased) < wanted:
            number += 1
    pool.walked[user_key] = number
    return leased


async def release(services: Services, dataset: DatasetDoc, record: RecordDoc, user_id: ObjectId,
                  skip_minutes: int | None = None) -> bool:
    """Give the user's lease on the record back: it is open to others at once. With
    ``skip_minutes``, the user skipped it: it goes to the end of their queue for that long."""
    storage, pools = services.storage, services.queue_pools
    if skip_minutes is not None and not 1 <= skip_minutes <= MAX_SKIP_MINUTES:
        raise Invalid(f"skipMinutes is between 1 and {MAX_SKIP_MINUTES}", ["skipMinutes"])
    now = datetime.now(UTC)
    skip_until = now + timedelta(minutes=skip_minutes) if skip_minutes is not None else None
    async with storage.record_locks.hold([record["_id"]]):
        state = await storage.queue.state(record["_id"])
        if state is None:
            return False
        min_submitted = dataset["distribution"]["min_submitted"]
        changes = work_state.without_lease(state, str(user_id), min_submitted, now, skip_until)
        written = None if changes is None else await state_writes.write(storage, state, _lease_part(changes),
                                                                        min_submitted)
        if written is None:
            return False
    pools.observe(dataset["_id"], written)  # the pool's entry carries the skip from now on
    pools.reopen(dataset["_id"], record.get("seq", 0))
    return True


async def _lease(storage: Storage, record_id: ObjectId, user_key: str, until: datetime,
                 min_submitted: int) -> tuple[bool, RecordDoc | None]:
    """Whether the lease was granted, and the record as last seen (None: gone). The whole
    record is read, as a granted lease hands it to the labeler."""
    async with storage.record_locks.hold([record_id]):
        record = await storage.records.get(record_id)
        if record is None:
            return False, None
        changes = work_state.with_lease(record, user_key, until, min_submitted, datetime.now(UTC))
        if changes is None:
            return False, record
        written = await state_writes.write(storage, record, _lease_part(changes), min_submitted)
        return written is not None, written or record


async def _lease_some(storage: Storage, candidates: Iterable[RecordDoc], wanted: int, user_key: str,
                      until: datetime, min_submitted: int) -> list[RecordDoc]:
    """Lease candidates in order until ``wanted``; the leased records. Each attempt writes the
    state it saw into the candidate (a pool entry), so that the pool stays close to the truth
    between reads.

    Just before each attempt the candidate is checked again: one that another labeler took
    meanwhile is dropped, and one that another labeler is being given right now waits at
    the back, so that concurrent labelers spread over the queue instead of trailing each
    other along it."""
    leased: list[RecordDoc] = []
    deferred: list[RecordDoc] = []  # walked once the candidates run out
    for candidate in itertools.chain(candidates, deferred):
        if len(leased) >= wanted:
            break
        if not _open_to(candidate, user_key, datetime.now(UTC)):
            continue
        if storage.record_locks.busy(candidate["_id"]) and not any(candidate is d for d in deferred):
            deferred.append(candidate)
            continue
        granted, record = await _lease(storage, candidate["_id"], user_key, until, min_submitted)
        candidate.update(_state_of(record) if record is not None else {"status": "deleted"})
        if granted and record is not None:
            leased.append(record)
    return leased


def _lease_part(changes: dict[str, object]) -> dict[str, object]:
    """A lease's changes without the status: ``minSubmitted`` may have changed since the
    caller read the dataset, and the status is the answers' and the change's to write."""
    return {name: value for name, value in changes.items() if name in LEASE_FIELDS}


def _state_of(record: RecordDoc) -> RecordDoc:
    """The work state of a record: what a pool entry holds."""
    return cast(RecordDoc, {name: value for name, value in record.items() if name in STATE_FIELDS})
