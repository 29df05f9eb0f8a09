"""The in-process copy of a vector space, kept in step with the database, and exact scoring.

One ``SpaceIndex`` per (dataset, space key) per process. Before each search it reads the
dataset's vector sequence (one lookup by ``_id``); when that moved, it reads the vectors written
since, so a replica follows every other replica's writes (and writes made straight into the
database that take a sequence number: ``storage/vectors.py``). A write takes its numbers before
its documents land and marks them pending until they have; each catch-up, the first load
included, therefore reads again next time above the lowest number still pending (and above the
number seen one catch-up before, for direct writes that mark nothing). Scores are computed
with numpy over the whole space (exact): at 100,000 x 384
that is one matrix-vector product of ~10 ms. Spaces of at least ``min_approximate`` vectors
also get an approximate index (the first one plugins register) built in a worker thread; the
copy and the index are saved in the data folder (``vector_files.py``).

A process holds at most ``MAX_SPACES`` spaces, the least recently searched put away first (saved
when they have changes; read back from the saved copy when asked again). A deleted dataset's or
space's copies go at once, from memory and from the folder (``forget``); saved copies of datasets
that no longer exist (deleted through another replica, or by a deletion a crash cut short) go at
start-up (``sweep``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from bson import ObjectId

from feedbackql_server.domain import vector_files
from feedbackql_server.domain.vectors import VectorSpace
from feedbackql_server.kinds.vector_indexes import ApproximateIndex
from feedbackql_server.storage import Storage
from feedbackql_server.storage.vectors import Sequenced, StoredVector

Matrix = np.ndarray[Any, np.dtype[np.float32]]
Positions = np.ndarray[Any, np.dtype[np.int64]]
REMOVED = ObjectId(b"\0" * 12)
"""The id of a row whose record was deleted (its values are zeros)."""
SAVE_EVERY_SECONDS = 30.0
MAX_SPACES = 64
"""Spaces one process holds in memory (each is its rows: 100,000 x 384 is 150 MB)."""
log = logging.getLogger("feedbackql_server.vectors")


def normalized(rows: np.ndarray[Any, Any]) -> Matrix:
    """Unit rows (an all-zero row stays zero), scaled by their largest value first: in float32
    the norm of ``[1e-40, ...]`` underflows to 0 and that of ``[3e38, ...]`` overflows."""
    largest = np.max(np.abs(rows), axis=-1, keepdims=True)
    scaled = rows / np.where(largest == 0, 1, largest)
    norms = np.linalg.norm(scaled, axis=-1, keepdims=True)
    return (scaled / np.where(norms == 0, 1, norms)).astype(np.float32)


@dataclass(frozen=True)
class IndexOptions:
    folder: Path | None = None
    """Where spaces are saved (None: nowhere)."""
    approximate: type[ApproximateIndex] | None = None
    min_approximate: int = 20_000
    """Vectors a space holds before it gets an approximate index."""


@dataclass
class SpaceIndex:
    space: VectorSpace
    options: IndexOptions = field(default_factory=IndexOptions)
    dataset_id: ObjectId | None = None
    ids: list[ObjectId] = field(default_factory=list)
    position: dict[ObjectId, int] = field(default_factory=dict)
    matrix: Matrix = field(init=False)
    seen: int = 0
    """The dataset's vector sequence at the last catch-up."""
    reread_from: int = 0
    """The sequence one catch-up before: writes in flight then are read again from here."""
    approximate: ApproximateIndex | None = None
    building: list[int] | None = None
    """While an approximate index is built: the positions changed since its rows were taken."""
    saved_at: float = 0.0
    unsaved: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    chores: asyncio.Task[None] | None = None
    """Building the approximate index and saving, in the background (searches go on exactly)."""
    forgotten: bool = False
    """Its dataset or space was deleted: it is never saved again."""

    def __post_init__(self) -> None:
        self.matrix = np.zeros((0, self.space.dimension), dtype=np.float32)

    @property
    def count(self) -> int:
        """Vectors in the space (rows of deleted records left out)."""
        return len(self.position)

    def restore(self, saved: vector_files.SavedSpace) -> None:
        self.ids = saved.ids
        self.position = {record_id: at for at, record_id in enumerate(saved.ids) if record_id != REMOVED}
        self.matrix = saved.matrix
        self.seen = self.reread_from = saved.seen
        self.approximate = saved.approximate
        self.saved_at = time.monotonic()

    async def catch_up(self, storage: Storage, dataset_id: ObjectId, read: Sequenced | None = None) -> None:
        """The vectors written since the last catch-up. ``read``: the space's sequence as read
        during this request (with the dataset, in one round trip): when it says nothing changed
        it saves a read; otherwise it is read again here, under the lock (a concurrent catch-up
        may have gone past it, which must not pass for a database behind this copy)."""
        if read is not None and read.seq == self.seen and self.reread_from == self.seen:
            return
        async with self.lock:
            sequence = await storage.vectors.version(dataset_id)
            if sequence.seq < self.seen:  # the database is behind the saved copy: not this one's
                self.restore(vector_files.SavedSpace([], self.matrix[:0], 0, None))
            if sequence.seq == self.seen and self.reread_from == self.seen:
                return
            start = self.reread_from
            stored = await storage.vectors.since(dataset_id, self.space.key, start, self.space.dimension,
                                                 upto=sequence.seq, held=len(self.ids))
            self._apply(stored)
            # Read again next time: above what had not settled (writes of this service still
            # on their way, the first load's included), and for writes made straight into the
            # database that announce nothing: above the number seen one catch-up before, or
            # after a first load above the highest number it found.
            before = self.seen if start else max((s.seq for s in stored), default=0)
            self.reread_from, self.seen = min(before, sequence.settled), sequence.seq
            self.unsaved = self.unsaved or bool(stored)

    def _apply(self, stored: Sequence[StoredVector]) -> None:
        width = self.space.dimension * 4
        self._remove([s.record_id for s in stored if not s.values])
        fresh = [s for s in stored if len(s.values) == width]
        rows = np.frombuffer(b"".join(s.values for s in fresh), dtype=np.float32).reshape(-1, self.space.dimension)
        if self.space.metric == "cosine":
            rows = normalized(rows)
        appended: list[int] = []
        changed: list[int] = []
        for offset, item in enumerate(fresh):
            known = self.position.get(item.record_id)
            if known is None:
                self.position[item.record_id] = len(self.ids)
                self.ids.append(item.record_id)
                appended.append(offset)
            else:
                self.matrix[known] = rows[offset]
            changed.append(self.position[item.record_id])
        if appended:
            self.matrix = np.concatenate([self.matrix, rows[appended]])
        self._follow(np.asarray(changed, dtype=np.int64))

    def _remove(self, record_ids: Sequence[ObjectId]) -> None:
        """Deleted records (their tombstones: ``storage/vectors.py``): each row is zeroed and its
        id marked ``REMOVED`` in place, so that no position moves (the approximate index is
        keyed by them) and the saved copy keeps nothing of the vector."""
        removed = [at for at in (self.position.pop(record_id, None) for record_id in record_ids) if at is not None]
        for at in removed:
            self.ids[at] = REMOVED
            self.matrix[at] = 0
        self._follow(np.asarray(removed, dtype=np.int64))

    def _follow(self, changed: Positions) -> None:
        """The approximate index learns the changed rows (or is told later, while it is built)."""
        if self.building is not None:
            self.building.extend(changed.tolist())
        elif self.approximate is not None and changed.size:
            self.approximate.add(changed, self.matrix[changed])

    def vector_of(self, record_id: ObjectId) -> Matrix | None:
        at = self.position.get(record_id)
        return None if at is None else self.matrix[at]

    def similarities(self, query: Matrix, positions: Positions | None = None) -> np.ndarray[Any, Any]:
        """Higher is more similar: cosine, dot product, or minus the L2 distance; of every row
        (float32, to rank), or of ``positions`` only (float64: the scores shown, which for a dot
        product or a distance of float32 values can lie beyond float32's range)."""
        rows: np.ndarray[Any, Any] = self.matrix
        if positions is not None:
            rows, query = self.matrix[positions].astype(np.float64), query.astype(np.float64)
        with np.errstate(over="ignore"):  # float32 rows beyond its range rank as infinite, first
            if self.space.metric == "cosine":
                scores = rows @ normalized(query).astype(rows.dtype)
            elif self.space.metric == "dot":
                scores = rows @ query
            else:
                scores = -np.linalg.norm(rows - query, axis=1)
        return np.asarray(scores, dtype=rows.dtype)

    def maintain(self, dataset_id: ObjectId, *, build: bool) -> None:
        """Start building the approximate index (``build``: the database has no vector search
        of its own) when the space has grown enough, and saving when due, in the background."""
        if self.chores is None or self.chores.done():
            self.chores = asyncio.create_task(self._chores(dataset_id, build))

    async def _chores(self, dataset_id: ObjectId, build: bool) -> None:
        options = self.options
        try:
            if (build and options.approximate is not None and self.approximate is None and self.building is None
                    and len(self.ids) >= options.min_approximate):
                await self._build(options.approximate)
                self.unsaved = True
            due = time.monotonic() - self.saved_at >= SAVE_EVERY_SECONDS or self.saved_at == 0.0
            if options.folder is not None and self.unsaved and due:
                await self.save(vector_files.folder_of(options.folder, dataset_id, self.space))
        except Exception:  # searches go on exactly; the next search tries again
            log.exception("vector space %s of dataset %s: building or saving its index failed",
                          self.space.name, dataset_id)

    async def _build(self, kind: type[ApproximateIndex]) -> None:
        self.building = []
        rows = self.matrix.copy()  # changes made meanwhile are logged in ``building``
        keys = np.arange(len(rows), dtype=np.int64)
        try:
            index = kind(self.space.dimension, self.space.metric)
            await asyncio.to_thread(index.add, keys, rows)
            async with self.lock:
                changed = np.asarray(sorted(set(self.building) | set(range(len(rows), len(self.ids)))), dtype=np.int64)
                if changed.size:
                    index.add(changed, self.matrix[changed])
                self.approximate = index
        finally:
            self.building = None

    async def save(self, folder: Path) -> None:
        async with self.lock:
            if self.forgotten:
                return
            # What surely landed: writes still on their way are read again after a restart.
            saved = vector_files.SavedSpace(list(self.ids), self.matrix, self.reread_from, self.approximate)
            await asyncio.to_thread(vector_files.save, folder, self.space, saved)
            self.saved_at, self.unsaved = time.monotonic(), False

    async def forget(self) -> None:
        """Never saved again; a save under way (in its thread) has ended when this returns."""
        self.forgotten = True
        async with self.lock:
            pass


class VectorIndexes:
    """Every space's index of this process, made on first use (from the saved copy when it
    is there and sound, else from the database)."""

    def __init__(self, options: IndexOptions | None = None, limit: int = MAX_SPACES) -> None:
        self.options = options or IndexOptions()
        self.limit = limit
        self.spaces: OrderedDict[tuple[ObjectId, str], SpaceIndex] = OrderedDict()
        """By (dataset, space key), the least recently searched first."""
        self._putting_away: set[asyncio.Task[None]] = set()

    async def ready(self, storage: Storage, dataset_id: ObjectId, space: VectorSpace,
                    read: Sequenced | None = None) -> SpaceIndex:
        """The space, caught up with the database (``read``: see ``SpaceIndex.catch_up``)."""
        key = (dataset_id, space.key)
        index = self.spaces.get(key)
        if index is None:
            index = self.spaces.setdefault(key, self._made(dataset_id, space))
            self._bound()
        self.spaces.move_to_end(key)
        await index.catch_up(storage, dataset_id, read)
        index.maintain(dataset_id, build=not storage.vectors.search.enabled)
        return index

    async def follow_deletions(self, storage: Storage, dataset_id: ObjectId, spaces: Iterable[VectorSpace]) -> None:
        """After records were deleted: each space of theirs this process holds or has saved
        catches up now (zeroing their rows; saved with the next save, at the latest at shutdown),
        rather than at its next search, which may never come."""
        for space in spaces:
            saved = self.options.folder is not None and vector_files.folder_of(
                self.options.folder, dataset_id, space).is_dir()
            if (dataset_id, space.key) in self.spaces or saved:
                await self.ready(storage, dataset_id, space)

    def _made(self, dataset_id: ObjectId, space: VectorSpace) -> SpaceIndex:
        index = SpaceIndex(space, self.options, dataset_id)
        if self.options.folder is not None:
            folder = vector_files.folder_of(self.options.folder, dataset_id, space)
            saved = vector_files.load(folder, space, self.options.approximate)
            if saved is not None:
                index.restore(saved)
        return index

    def _bound(self) -> None:
        """Put the least recently searched spaces away, saving those with changes."""
        while len(self.spaces) > self.limit:
            (dataset_id, _), index = self.spaces.popitem(last=False)
            if self.options.folder is not None and index.unsaved:
                saving = asyncio.create_task(index.save(vector_files.folder_of(self.options.folder, dataset_id,
                                                                                index.space)))
                self._putting_away.add(saving)
                saving.add_done_callback(self._putting_away.discard)

    async def forget(self, dataset_id: ObjectId, space_keys: Iterable[str] | None = None) -> None:
        """A deleted dataset's spaces (or the ``space_keys`` removed from it): out of memory, and
        their saved copies out of the folder."""
        keys = None if space_keys is None else set(space_keys)
        for key in [key for key in self.spaces if key[0] == dataset_id and (keys is None or key[1] in keys)]:
            await self.spaces.pop(key).forget()
        await asyncio.gather(*self._putting_away, return_exceptions=True)
        folder = self.options.folder
        if folder is not None:
            for space_key in [None] if keys is None else keys:
                await asyncio.to_thread(vector_files.remove, folder, dataset_id, space_key)

    async def sweep(self, existing: set[ObjectId]) -> None:
        """At start-up: the saved copies of datasets that no longer exist."""
        if self.options.folder is not None:
            for dataset_id in vector_files.saved_datasets(self.options.folder) - existing:
                await self.forget(dataset_id)

    async def save_all(self) -> None:
        """At shutdown: every space with changes not yet saved."""
        if self.options.folder is None:
            return
        for (dataset_id, _), index in list(self.spaces.items()):
            if index.chores is not None:
                await asyncio.gather(index.chores, return_exceptions=True)
            if index.unsaved:
                await index.save(vector_files.folder_of(self.options.folder, dataset_id, index.space))
