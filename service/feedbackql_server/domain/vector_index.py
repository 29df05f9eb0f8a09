"""The in-process copy of a vector space, kept in step with the database, and exact scoring.

One ``SpaceIndex`` per (dataset, space key) per process. Before each search it reads the
dataset's vector sequence (one lookup by ``_id``); when that moved, it reads the vectors written
since, so a replica follows every other replica's writes (and writes made straight into the
database that take a sequence number: ``storage/vectors.py``). A write takes its number before
its documents land, so a read can miss one still in flight: each catch-up therefore reads again
from the number seen one catch-up before, and a catch-up happens once more after the sequence
stops moving. Scores are computed with numpy over the whole space (exact): at 100,000 x 384
that is one matrix-vector product of ~10 ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bson import ObjectId

from feedbackql_server.domain.vectors import VectorSpace
from feedbackql_server.storage import Storage
from feedbackql_server.storage.vectors import StoredVector

Matrix = np.ndarray[Any, np.dtype[np.float32]]
Positions = np.ndarray[Any, np.dtype[np.int64]]


def _normalized(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return (rows / np.where(norms == 0, 1, norms)).astype(np.float32)


@dataclass
class SpaceIndex:
    space: VectorSpace
    ids: list[ObjectId] = field(default_factory=list)
    position: dict[ObjectId, int] = field(default_factory=dict)
    matrix: Matrix = field(init=False)
    seen: int = 0
    """The dataset's vector sequence at the last catch-up."""
    reread_from: int = 0
    """The sequence one catch-up before: writes in flight then are read again from here."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.matrix = np.zeros((0, self.space.dimension), dtype=np.float32)

    async def catch_up(self, storage: Storage, dataset_id: ObjectId) -> None:
        async with self.lock:
            version = await storage.vectors.version(dataset_id)
            if version == self.seen and self.reread_from == self.seen:
                return
            start = self.reread_from
            stored = await storage.vectors.since(dataset_id, self.space.key, start, self.space.dimension)
            self._apply(stored)
            # A first load reads everything and is not read again (a write in flight during it
            # shows at the sequence's next move).
            self.reread_from, self.seen = (self.seen if start else version), version

    def _apply(self, stored: Sequence[StoredVector]) -> None:
        width = self.space.dimension * 4
        fresh = [s for s in stored if len(s.values) == width]
        rows = np.frombuffer(b"".join(s.values for s in fresh), dtype=np.float32).reshape(-1, self.space.dimension)
        if self.space.metric == "cosine":
            rows = _normalized(rows)
        appended: list[int] = []
        for offset, item in enumerate(fresh):
            known = self.position.get(item.record_id)
            if known is None:
                self.position[item.record_id] = len(self.ids)
                self.ids.append(item.record_id)
                appended.append(offset)
            else:
                self.matrix[known] = rows[offset]
        if appended:
            self.matrix = np.concatenate([self.matrix, rows[appended]])

    def vector_of(self, record_id: ObjectId) -> Matrix | None:
        at = self.position.get(record_id)
        return None if at is None else self.matrix[at]

    def similarities(self, query: Matrix) -> Matrix:
        """Higher is more similar, for every row: cosine, dot product, or minus the L2 distance."""
        if self.space.metric == "cosine":
            scores = self.matrix @ _normalized(query)
        elif self.space.metric == "dot":
            scores = self.matrix @ query
        else:
            scores = -np.linalg.norm(self.matrix - query, axis=1)
        return np.asarray(scores, dtype=np.float32)


class VectorIndexes:
    """Every space's index of this process, made on first use."""

    def __init__(self) -> None:
        self._spaces: dict[tuple[ObjectId, str], SpaceIndex] = {}

    async def ready(self, storage: Storage, dataset_id: ObjectId, space: VectorSpace) -> SpaceIndex:
        index = self._spaces.get((dataset_id, space.key))
        if index is None:
            index = self._spaces.setdefault((dataset_id, space.key), SpaceIndex(space))
        await index.catch_up(storage, dataset_id)
        return index
