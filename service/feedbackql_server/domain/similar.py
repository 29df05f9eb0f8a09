"""``similarRecords``: the records nearest a vector, the record filter applied before the top-k.

When an index reads the few records a filter can match (a rare word, external ids, the
caller's own responses: ``_narrowed``, the lookups a records page narrows by), or, once the
walk's first steps say few records match (``KEYED_ESTIMATE``), a key PostgreSQL selects by reads
them (a few metadata values, a range's few bands, response statuses, one status:
``storage/filter_keys.py``; a range within no band reads nothing), those are
ranked in memory and the best read.
Otherwise candidates are taken in order of similarity and checked
against the filter by the database (``RecordRepo.among``: one lookup by ``_id`` each, with the
filter's conditions), a growing prefix at a time (``_next_prefix``), until ``first`` match;
each candidate is checked once. So a filtered search returns ``first`` results whenever that
many records match, and the same ones a filter-then-rank would. When the filter keeps so few
records that ``MAX_WALKED`` candidates hold fewer than ``first`` matches, the matching ids are
read once and ranked alone (exact either way).

Without a key, on FerretDB no read is cheaper per candidate than the lookup by ``_id`` (1.2-1.6
ms each on the shared development machine, 16 at a time): a batch (``$in``) or a read of the
dataset's matches reads and decodes every record of the dataset (4 s at 10,000 records,
measured), and a bucket read decodes its hundred records.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from bson import ObjectId

from feedbackql_server.documents import RecordDoc
from feedbackql_server.domain import listing
from feedbackql_server.domain.vector_index import Matrix, Positions, SpaceIndex, normalized
from feedbackql_server.storage import Storage
from feedbackql_server.storage.records import RecordQuery

MAX_WALKED = 5_000
"""Candidates checked against a filter, in similarity order, before the matches are read."""
FIRST_BATCH = 32
MAX_STEP = 256
"""Candidates a filtered search checks at most in one step, past those checked already."""
MAX_BATCH = 1_000
MAX_KEYED_MATCHES = 5_000
"""Matches of a keyed condition (a metadata value, response statuses) read and ranked in memory."""
KEYED_ESTIMATE = 3_500
"""The matches a filter may have, estimated from the walk's first steps, for its key to be read
instead: on FerretDB reading a key's matches costs about as much per match (each is decoded,
about 0.3 ms at 100,000 records) as the walk per candidate (a lookup, about 0.4 ms 16 at a time),
so the read pays when the matches are fewer than the candidates the walk would check (a 1%
filter of 100,000 records: 1,000 matches, about 1,100 candidates). A dense filter (a status most
records have) never reads them: its first step finds ``first``."""


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
                 most_similar: bool, exclude: ObjectId | None, seq_end: int) -> SimilarResult:
    """``seq_end``: the dataset's ``next_seq`` (a word is sampled up to it: ``RecordRepo.matches``)."""
    excluded = index.position.get(exclude) if exclude is not None else None
    if query.conditions():
        query = await storage.records.banded(query)  # a range as the bands records have in it
        narrowed = await _narrowed(storage, query, seq_end)
        if narrowed is not None:
            # An index read the few records that can match (a rare word, external ids, the
            # caller's own responses): rank them alone, then read the best, checked again.
            found = await _ranked_ids(storage, index, query, vector, most_similar, excluded, first, narrowed)
            return SimilarResult(found[:first], exact=True, candidates=index.count)
    walk = _Walk(storage, index, query, vector, Candidates(storage, index, vector, most_similar, excluded))
    # Unfiltered, every candidate matches (but records deleted since): read just ``first``,
    # not a batch that a filter would need (32 lookups where 10 do: a third of the time).
    length = first if not query.conditions() else max(FIRST_BATCH, first * 2)
    keyed_tried = False
    while True:
        length = min(length, MAX_WALKED, walk.available)
        found, ended = await walk.prefix(length)
        if len(found) >= first:
            break
        if not keyed_tried and (len(found) + 1) / (length + 1) * walk.available <= KEYED_ESTIMATE:
            # Few records match, by the rate seen so far: a key (a metadata value, response
            # statuses, one status) reads them all at once for less than the walk would cost.
            keyed_tried = True
            keyed = await storage.records.keyed_ids(query, MAX_KEYED_MATCHES)
            if keyed is not None:
                found = await _ranked_ids(storage, index, query, vector, most_similar, excluded, first, keyed)
                return SimilarResult(found[:first], exact=True, candidates=index.count)
        if not walk.candidates.exact:
            # The filter keeps few of the records near the query: the approximate neighbourhood
            # would miss matches further out, so rank exactly (a heavily filtered search); the
            # candidates checked already are not looked up again.
            walk.candidates.go_exact()
        elif ended or length >= MAX_WALKED:
            break
        length = _next_prefix(length, len(found), first)
    if len(found) < first and not ended:
        found = await _among_matches(storage, index, query, vector, most_similar, excluded, first)
        return SimilarResult(found[:first], exact=True, candidates=index.count)
    found.sort(key=lambda item: -item.score if (most_similar != (index.space.metric == "l2")) else item.score)
    return SimilarResult(found[:first], exact=walk.candidates.exact, candidates=index.count)


def _next_prefix(walked: int, matched: int, first: int) -> int:
    """How far down the ranking to check next: as far as the match rate seen so far says the
    missing matches are (a quarter more), but at most ``MAX_STEP`` further. The lookups run
    ``lookups.CONCURRENCY`` at a time whatever the step, so a short step costs no speed and
    stops close past the last match needed. For a 1% filter at 10,000 records: 1,059
    candidates checked on average (max 1,765), against 1,365 (max 2,048) when the prefix
    doubled; the rate alone, uncapped, overshot up to 5,000 (``docs/benchmarks.md``)."""
    rate = (matched + 1) / (walked + 1)
    return walked + max(FIRST_BATCH, min(MAX_STEP, math.ceil((first - matched) / rate * 1.25)))


class _Walk:
    """Candidates checked against the filter, each once: whether it matched is kept, so a prefix
    that grows (or is ranked anew, exactly) looks up only the candidates not checked yet."""

    def __init__(self, storage: Storage, index: SpaceIndex, query: RecordQuery, vector: Matrix,
                 candidates: Candidates) -> None:
        self.storage, self.index, self.query, self.vector = storage, index, query, vector
        self.candidates = candidates
        self.checked: dict[int, Scored | None] = {}
        self.available = len(index.ids) - (candidates.excluded is not None)

    async def prefix(self, length: int) -> tuple[list[Scored], bool]:
        """The matches among the first ``length`` candidates, and whether those were all of them."""
        order = (await self.candidates.first(length)).tolist()
        fresh = np.asarray([at for at in order if at not in self.checked], dtype=np.int64)
        self.checked.update(dict.fromkeys(fresh.tolist()))
        for match in await _matching(self.storage, self.index, self.query, fresh, self.vector):
            self.checked[self.index.position[match.record["_id"]]] = match
        ended = self.candidates.exact and (len(order) < length or length >= self.available)
        return [item for at in order if (item := self.checked[at]) is not None], ended


async def _narrowed(storage: Storage, query: RecordQuery, seq_end: int) -> Collection[ObjectId] | None:
    """The records that can match ``query`` when an index tells (the lookups a records page
    narrows by, ``listing._narrowing``), as ids: reading their buckets instead decoded a hundred
    records per match (100 external ids spread over 63 buckets: 2.4 s, against 0.8 s for the
    walk of a 1% filter); None when no index narrows it to a few."""
    matches = await storage.records.matches(query, listing.MAX_MATCHES, seq_end)
    if matches is not None:
        return matches.ids
    if query.answered_as is not None:
        # At most as many as a word or external ids narrow to: reading thousands of responses
        # costs more than walking the ranking, where a few thousand matches come ten lookups apart.
        statuses, user = query.answered_as
        return await storage.responses.records_of_user(query.dataset_id, user, statuses, listing.MAX_MATCHES)
    return None


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
    return await _ranked_ids(storage, index, query, vector, most_similar, excluded, first, matching)


async def _ranked_ids(storage: Storage, index: SpaceIndex, query: RecordQuery, vector: Matrix, most_similar: bool,
                      excluded: int | None, first: int, ids: Collection[ObjectId]) -> list[Scored]:
    """The best ``first`` of the records ``ids`` that still match, best first: ranked in memory,
    then read in that order (``first`` lookups, more only for those that stopped matching)."""
    positions = np.array([at for record_id in ids if (at := index.position.get(record_id)) is not None
                          and at != excluded], dtype=np.int64)
    if positions.size == 0:
        return []
    order = positions[ranked(index.similarities(vector, positions), most_similar, None)]
    found: list[Scored] = []
    start, step = 0, first
    while start < len(order) and len(found) < first:
        found += await _matching(storage, index, query, order[start:start + step], vector)
        start, step = start + step, min(MAX_BATCH, step * 2)
    return found
