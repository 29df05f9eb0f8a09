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

from feedbackql_server.domain.vector_index import Matrix, Positions, SpaceIndex
from feedbackql_server.storage import Storage
from feedbackql_server.storage.documents import RecordDoc
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


def _scores_for_output(index: SpaceIndex, similarities: Matrix) -> Matrix:
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


async def search(storage: Storage, index: SpaceIndex, query: RecordQuery, vector: Matrix, first: int,
                 most_similar: bool, exclude: ObjectId | None) -> SimilarResult:
    similarities = index.similarities(vector)
    excluded = index.position.get(exclude) if exclude is not None else None
    shown = _scores_for_output(index, similarities)
    found: list[Scored] = []
    walked = 0
    batch = max(FIRST_BATCH, first * 2)
    order = ranked(similarities, most_similar, excluded, min(len(similarities), MAX_WALKED))
    while len(found) < first and walked < len(order):
        positions = order[walked:walked + batch]
        walked += len(positions)
        found += await _matching(storage, index, query, positions, shown)
        batch = min(MAX_BATCH, batch * 2)
    if len(found) < first and walked < len(similarities) - (excluded is not None):
        found = await _among_matches(storage, index, query, similarities, shown, most_similar, excluded, first)
    return SimilarResult(found[:first], exact=True, candidates=len(index.ids))


async def _matching(storage: Storage, index: SpaceIndex, query: RecordQuery, positions: Positions,
                    shown: Matrix) -> list[Scored]:
    ids = [index.ids[int(at)] for at in positions]
    records = await storage.records.among(query, ids)
    return [Scored(record, float(shown[index.position[record["_id"]]])) for record in records]


async def _among_matches(storage: Storage, index: SpaceIndex, query: RecordQuery, similarities: Matrix,
                         shown: Matrix, most_similar: bool, excluded: int | None, first: int) -> list[Scored]:
    """Few records match: read which do, rank those alone."""
    matching = await storage.records.matching_ids(query)
    positions = np.array([at for record_id, at in index.position.items() if record_id in matching and at != excluded],
                         dtype=np.int64)
    if positions.size == 0:
        return []
    order = positions[ranked(similarities[positions], most_similar, None)]
    found: list[Scored] = []
    for start in range(0, len(order), MAX_BATCH):
        found += await _matching(storage, index, query, order[start:start + MAX_BATCH], shown)
        if len(found) >= first:
            break
    return found
