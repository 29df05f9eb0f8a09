"""``similarRecords``: the records nearest a vector, the record filter applied before the top-k.

Candidates are taken in order of similarity and checked against the filter by the database
(``RecordRepo.among``: one lookup by ``_id`` each, with the filter's conditions), a growing
batch at a time, until ``first`` match. So a filtered search returns ``first`` results whenever
that many records match, and the same ones a filter-then-rank would. When the filter keeps so
few records that ``MAX_WALKED`` candidates hold fewer than ``first`` matches, the matching ids
are read once and ranked alone (exact either way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from bson import ObjectId

from feedbackql_server.documents import RecordDoc
from feedbackql_server.domain.vector_index import Matrix, Positions, SpaceIndex, normalized
from feedbackql_server.storage import Storage
from feedbackql_server.storage.records import RecordQuery

MAX_WALKED = 5_000
"""Candidates checked against a filter, in similarity order, before the matches are read."""
FIRST_BATCH = 32
MAX_BATCH = 1_000


@dataclass(frozen=True)
class Scored:
    record: RecordDoc
    score: float


@dataclass(frozen=True)
class SimilarResult:
    items: list[Scored]
    exact: bool
    candidates: int
    """Vectors in the space when searched."""


def _shown(index: SpaceIndex, similarities: Matrix) -> Matrix:
    """L2 spaces report the distance (smaller is nearer); the others their similarity."""
    return -similarities if index.space.metric == "l2" else similarities


def ranked(similarities: Matrix, most_similar: bool, exclude: int | None, limit: int | None = None) -> Positions:
    """Positions in search order; with ``limit``, only that many (a partial sort)."""
    keys = -similarities if most_similar else similarities
    if exclude is not None:
        keys = keys.copy()
        keys[exclude] = np.inf
    total = len(keys) - (exclude is not None)
    if limit is not None and limit < len(keys):
        head = np.argpartition(keys, limit)[:limit]
        order = head[np.argsort(keys[head], kind="stable")]
    else:
        order = np.argsort(keys, kind="stable")
    return np.asarray(order[:total], dtype=np.int64)


class Candidates:
    """Positions in search order, a growing prefix at a time: exactly ranked, or as the
    approximate index proposes them (re-ranked by their exact scores)."""

    def __init__(self, storage: Storage, index: SpaceIndex, vector: Matrix, most_similar: bool,
                 excluded: int | None) -> None:
        self.storage = storage
        self.index = index
        self.vector = vector
        self.most_similar = most_similar
        self.excluded = excluded
        self.in_database = (most_similar and storage.vectors.search.enabled
                            and len(index.ids) >= index.options.min_approximate)
        self.approximate = index.approximate if most_similar and index.building is None else None
        self.similarities = None if self.approximate is not None or self.in_database else index.similarities(vector)

    @property
    def exact(self) -> bool:
        return self.similarities is not None

    def go_exact(self) -> None:
        self.in_database, self.approximate = False, None
        self.similarities = self.index.similarities(self.vector)

    async def first(self, count: int) -> Positions:
        if self.similarities is not None:
            return ranked(self.similarities, self.most_similar, self.excluded, count)
        query = normalized(self.vector) if self.index.space.metric == "cosine" else self.vector
        if self.in_database:
            keys = await self._from_database(query, count + 1)
        else:
            assert self.approximate is not None
            keys = self.approximate.search(query, count + 1)
        keys = keys[(keys != (self.excluded if self.excluded is not None else -1)) & (keys < len(self.index.ids))]
        order = np.argsort(-self.index.similarities(self.vector, keys), kind="stable")
        return np.asarray(keys[order][:count], dtype=np.int64)

    async def _from_database(self, query: Matrix, count: int) -> Positions:
        """MongoDB's ``$vectorSearch`` (``storage/vector_search.py``), as positions here."""
        space, search = self.index.space, self.storage.vectors.search
        await search.ensure_index(space.key, space.dimension, space.metric)
        assert self.index.dataset_id is not None
        found = await search.nearest(self.index.dataset_id, space.key, [float(x) for x in query], count)
        return np.asarray([self.index.position[i] for i in found if i in self.index.position], dtype=np.int64)


async def search(storage: Storage, index: SpaceIndex, query: RecordQuery, vector: Matrix, first: int,
                 most_similar: bool, exclude: ObjectId | None) -> SimilarResult:
    excluded = index.position.get(exclude) if exclude is not None else None
    candidates = Candidates(storage, index, vector, most_similar, excluded)
    available = len(index.ids) - (excluded is not None)
    found: list[Scored] = []
    walked: set[int] = set()
    # Unfiltered, every candidate matches (but records deleted since): read just ``first``,
    # not a batch that a filter would need (32 lookups where 10 do: a third of the time).
    wanted = first if not query.conditions() else max(FIRST_BATCH, first * 2)
    while len(found) < first and len(walked) < available:
        if walked and not candidates.exact:
            # The filter keeps few of the records near the query: the approximate neighbourhood
            # would miss matches further out, so rank exactly (a heavily filtered search).
            candidates.go_exact()
            found, walked = [], set()
        order = await candidates.first(min(wanted, MAX_WALKED, available))
        fresh = np.asarray([at for at in order.tolist() if at not in walked], dtype=np.int64)
        walked.update(fresh.tolist())
        found += await _matching(storage, index, query, fresh, vector)
        if wanted >= MAX_WALKED or fresh.size == 0:
            break
        wanted = min(MAX_WALKED, wanted * 2)
    if len(found) < first and len(walked) < available:
        found = await _among_matches(storage, index, query, vector, most_similar, excluded, first)
        return SimilarResult(found[:first], exact=True, candidates=len(index.ids))
    found.sort(key=lambda item: -item.score if (most_similar != (index.space.metric == "l2")) else item.score)
    return SimilarResult(found[:first], exact=candidates.exact, candidates=len(index.ids))


async def _matching(storage: Storage, index: SpaceIndex, query: RecordQuery, positions: Positions,
                    vector: Matrix) -> list[Scored]:
    if positions.size == 0:
        return []
    scores = _shown(index, index.similarities(vector, positions))
    by_id = {index.ids[at]: float(score) for at, score in zip(positions.tolist(), scores.tolist(), strict=True)}
    records = await storage.records.among(query, list(by_id))
    return [Scored(record, by_id[record["_id"]]) for record in records]


async def _among_matches(storage: Storage, index: SpaceIndex, query: RecordQuery, vector: Matrix,
                         most_similar: bool, excluded: int | None, first: int) -> list[Scored]:
    """Few records match: read which do, rank those alone."""
    matching = await storage.records.matching_ids(query)
    positions = np.array([at for record_id, at in index.position.items() if record_id in matching and at != excluded],
                         dtype=np.int64)
    if positions.size == 0:
        return []
    order = positions[ranked(index.similarities(vector, positions), most_similar, None)]
    found: list[Scored] = []
    for start in range(0, len(order), MAX_BATCH):
        found += await _matching(storage, index, query, order[start:start + MAX_BATCH], vector)
        if len(found) >= first:
            break
    return found
