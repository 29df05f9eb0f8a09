"""Near-duplicates: pairs of records of a space whose similarity reaches a threshold, a page at
a time, for cleaning a dataset before labelling.

Rows are walked in the space's order from the cursor; each row is compared with the rows after
it (so each pair comes once). Exactly, a block of rows against the whole space (one matrix
product); with an approximate index, each row against its nearest ``NEIGHBOURS`` (recall then
depends on the index, and ``exact`` says so). A page compares at most ``WORK_PER_PAGE`` row
pairs exactly and may come back short, with ``has_next``, like a filtered records page.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
from bson import ObjectId

from feedbackql_server.documents import RecordDoc
from feedbackql_server.domain.vector_index import REMOVED, SpaceIndex
from feedbackql_server.errors import Invalid
from feedbackql_server.storage import Storage

WORK_PER_PAGE = 20_000_000
"""Row pairs one page compares exactly (~0.5 s of numpy at 384 dimensions)."""
NEIGHBOURS = 16
MAX_ROWS_PER_PAGE = 5_000


@dataclass(frozen=True)
class Pair:
    first: RecordDoc
    second: RecordDoc
    score: float


@dataclass(frozen=True)
class PairPage:
    pairs: list[Pair]
    has_next: bool
    end_cursor: str | None
    exact: bool


def encode(position: int, after: int) -> str:
    """Where the next page starts: a row, and the last row it was paired with (the pages before
    gave its pairs up to that one). Positions never move (a deleted record's row stays, zeroed),
    so the cursor holds whatever is deleted or added between pages."""
    return base64.urlsafe_b64encode(f"nd:{position}:{after}".encode()).decode()


def decode(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return 0, 0
    try:
        kind, *numbers = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        position, after = (int(numbers[0]), int(numbers[1]) if len(numbers) > 1 else int(numbers[0]))
        if kind != "nd" or len(numbers) > 2 or position < 0 or after < position:
            raise ValueError(kind)
        return position, after
    except (ValueError, IndexError, UnicodeDecodeError):
        raise Invalid("this cursor was not made by nearDuplicates; start again without after", ["after"]) from None


async def page(storage: Storage, index: SpaceIndex, threshold: float, first: int, after: str | None) -> PairPage:
    """Up to ``first`` pairs from the cursor on, row by row, until the page's work is done; a
    row with more pairs than the page has room for goes on in the next page (a row of a
    thousand copies gives a thousand pairs). ``threshold``: the least similarity, or for L2 the
    greatest distance."""
    start, partner = decode(after)
    total = len(index.ids)
    exact = index.approximate is None or index.building is not None
    rows = max(1, min(MAX_ROWS_PER_PAGE, WORK_PER_PAGE // max(1, total)))
    least = -threshold if index.space.metric == "l2" else threshold
    found: list[tuple[int, int, float]] = []
    position, partner = start, max(partner, start)
    while position < total and len(found) < first and position - start < rows:
        of_row = _exact_pairs(index, position, least) if exact else _approximate_pairs(index, position, least)
        of_row = [pair for pair in of_row if pair[1] > partner]
        if len(of_row) > first - len(found):
            found += of_row[:first - len(found)]
            partner = found[-1][1]
            break
        found += of_row
        position += 1
        partner = position
    pairs = await _with_records(storage, index, found)
    has_next = position < total
    return PairPage(pairs, has_next, encode(position, partner) if has_next else None, exact)


def _shown(index: SpaceIndex, score: float) -> float:
    return -score if index.space.metric == "l2" else score


def _exact_pairs(index: SpaceIndex, at: int, least: float) -> list[tuple[int, int, float]]:
    if index.ids[at] == REMOVED:
        return []
    scores = index.similarities(index.matrix[at])[at + 1:]  # float32, to choose
    others = np.asarray([at + 1 + offset for offset in np.flatnonzero(scores >= least).tolist()
                         if index.ids[at + 1 + offset] != REMOVED], dtype=np.int64)
    shown = index.similarities(index.matrix[at], others)  # float64: beyond float32's range too
    return [(at, other, _shown(index, score)) for other, score in zip(others.tolist(), shown.tolist(), strict=True)]


def _approximate_pairs(index: SpaceIndex, at: int, least: float) -> list[tuple[int, int, float]]:
    assert index.approximate is not None
    if index.ids[at] == REMOVED:
        return []
    neighbours = index.approximate.search(index.matrix[at], NEIGHBOURS + 1)
    later = np.asarray(sorted(other for other in neighbours[neighbours > at].tolist() if index.ids[other] != REMOVED),
                       dtype=np.int64)
    scores = index.similarities(index.matrix[at], later)
    return [(at, int(other), _shown(index, score)) for other, score in zip(later.tolist(), scores.tolist(), strict=True)
            if score >= least]


async def _with_records(storage: Storage, index: SpaceIndex, found: list[tuple[int, int, float]]) -> list[Pair]:
    """The pairs whose records both still exist."""
    wanted: list[ObjectId] = list(dict.fromkeys(index.ids[at] for pair in found for at in pair[:2]))
    records = {doc["_id"]: doc for doc in await storage.records.by_ids(wanted)}
    return [Pair(records[index.ids[a]], records[index.ids[b]], score) for a, b, score in found
            if index.ids[a] in records and index.ids[b] in records]
