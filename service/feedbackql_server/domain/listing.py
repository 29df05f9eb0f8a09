"""Listing a dataset's records: what a caller may filter on, and a page at a time.

No page and no ``totalCount`` may cost a read of the whole dataset (issue 20: a text search of
20,000 records took 25 s; a status count and an update-time sort of 100,000 timed out). A
filter is first narrowed by an index where one applies — a word of a text search, external
ids, the caller's own responses — to the buckets that hold matches; a filtered page then reads
at most ``MAX_BUCKETS_PER_PAGE`` buckets (and may come back short, with ``hasNextPage``).
Counts come from the counters or from the narrowing; what neither can answer, an update-time
sort the database cannot serve from an index, and a sort by metadata or a suggestion score
(which no index serves), is read only in datasets of at most ``max_scan_records`` records and
refused as ``QUERY_TOO_COSTLY`` in larger ones
(``docs/queries.md``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from feedbackql_server.documents import DatasetDoc, RecordDoc
from feedbackql_server.domain import progress
from feedbackql_server.domain.read_quota import ReadQuotas
from feedbackql_server.errors import Invalid, TooCostly
from feedbackql_server.paging import Keyset, RecordOrder
from feedbackql_server.policy import Caller
from feedbackql_server.policy import responses as policy_responses
from feedbackql_server.safety import check_storable
from feedbackql_server.storage import Storage
from feedbackql_server.storage.buckets import BUCKET_SIZE, number_of
from feedbackql_server.storage.records import MAX_BUCKETS_PER_PAGE, Matches, MetadataCondition, PageRead, RecordQuery
from feedbackql_server.storage.search_words import search_words

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

Checked = TypeVar("Checked")
Read = TypeVar("Read")

__all__ = ["MetadataCriterion", "RecordCriteria", "RecordPage", "page", "query_for"]


@dataclass(frozen=True)
class MetadataCriterion:
    """Metadata ``name`` is one of ``values`` and/or within [ge, le]."""

    name: str
    values: Sequence[Any] | None = None
    ge: float | None = None
    le: float | None = None


@dataclass(frozen=True)
class RecordCriteria:
    """What a caller asks for; statuses are the stored names (``pending``, ``submitted``...)."""

    status: str | None = None
    response_statuses: Sequence[str] = ()
    my_response_statuses: Sequence[str] = ()
    metadata: Sequence[MetadataCriterion] = ()
    external_ids: Sequence[str] | None = None
    text: str | None = None


@dataclass
class RecordPage:
    records: list[RecordDoc]
    has_next: bool
    hidden_metadata: frozenset[str]
    total: Callable[[], Awaitable[int]] = field(repr=False)
    resume: Keyset | None = None
    """Where a page cut short stopped reading: its ``endCursor`` points there."""


MAX_MATCHES = 200
"""Records an index lookup reads to narrow a filter (and count it); past that the filter is
served by reading buckets in order (a text search's word still pushed down, so a bucket read
returns only the records that have it). FerretDB decodes each document it reads: a common word
narrowed up to 5,000 matches took 3.5 s (p50) at 10,000 records on the loaded bench machine,
and up to 1,000 still 0.9 s."""
MAX_OWN_RESPONSES = 5_000
"""Responses of the caller read to narrow ``myResponseStatus`` (small documents)."""
MAX_BUCKETS_PER_REQUEST = 60
"""Buckets all the filtered pages of one request read together (``ReadBudget``)."""
MAX_COUNTED_BUCKETS = 200
"""Buckets a count reads one by one, when an index named them but not how many match."""
READ_SECONDS = 0.005
"""The time a filtered page's bucket reads may take for each read its budget pays (and are
charged for, when they take longer): a read narrowed by a key takes 1-2 ms, one that FerretDB
decodes whole 10-25 ms (at 100,000 records, on the shared development machine). Three pages a
request of nine metadata values that match nothing (no key serves more than eight) took the
labeler loop's p95 to 1.48 x (rounds' median 1.61) while pages served by keys took it to 1.11 x
(``bench/worst_query.py``): by count, a read that decodes a hundred records cost what a keyed
one did. At 12.5 ms a read the whole-bucket reads still fit their share (1.49 x). A page that
comes back full pays its reads only: what it decoded it mostly returned."""
MIN_READ_AHEAD = 12
"""The share (in reads) below which a filtered page reads one bucket at a time: reading two ahead
sends three reads at once where a short share pays for one, and three buckets FerretDB decodes
whole at once take both of the machine's cores from the labeler loop."""
SORTED_PAGE_READS = 20
"""Bucket reads a page sorted by update time is charged (a sorted query, not bucket reads)."""


def query_for(dataset_id: Any, criteria: RecordCriteria | None, caller: Caller,
              hidden_metadata: Collection[str] = (),
              answered_as: tuple[tuple[str, ...], str] | None = None) -> RecordQuery:
    """The storage query for what ``caller`` asked, within what they may filter on."""
    if criteria is None:
        return RecordQuery(dataset_id=dataset_id, answered_as=answered_as)
    anyones = list(criteria.response_statuses)
    mine = list(criteria.my_response_statuses)
    if anyones and not policy_responses.sees_all(caller):
        # Annotators see only their own responses: whose responses a record has is not theirs
        # to filter on (it told them which records others worked on).
        mine, anyones = [*mine, *anyones], []
    if mine:
        answered_as = (tuple(dict.fromkeys(mine)), str(caller.id))
    return RecordQuery(
        dataset_id=dataset_id,
        statuses=[criteria.status] if criteria.status else [],
        response_statuses=anyones,
        external_ids=_checked(criteria.external_ids, ["filter", "externalIds"]),
        words=search_words(_checked(criteria.text, ["filter", "text"])) if criteria.text is not None else (),
        metadata=_metadata_conditions(criteria.metadata, hidden_metadata),
        answered_as=answered_as,
    )


def _checked(value: Checked, path: list[str | int]) -> Checked:
    if value is not None:
        check_storable(value, path)
    return value


def _metadata_conditions(criteria: Sequence[MetadataCriterion],
                         hidden_metadata: Collection[str]) -> list[MetadataCondition]:
    conditions = []
    for index, m in enumerate(criteria):
        path: list[str | int] = ["filter", "metadata", index]
        if m.values is None and m.ge is None and m.le is None:
            raise Invalid("give values, ge or le", path)
        check_storable({m.name: m.values}, path)
        if m.name in hidden_metadata:
            # Answered as for a property no record has (nothing matches): an error would tell
            # the annotator it exists, and a real filter would reveal its values.
            conditions.append(MetadataCondition(name=m.name, values=[]))
            continue
        conditions.append(MetadataCondition(name=m.name, values=m.values, ge=m.ge, le=m.le))
    return conditions


class ReadBudget:
    """Buckets the filtered pages of one request may read together: thirty aliased pages
    must not read thirty times a page's share (``MAX_BUCKETS_PER_REQUEST``). With ``quotas``,
    every page and count also draws on the caller's share across requests and connections
    (``read_quota.py``), one listing request of theirs at a time."""

    def __init__(self, buckets: int | None = None, quotas: ReadQuotas | None = None, user: str = "") -> None:
        self.left = MAX_BUCKETS_PER_REQUEST if buckets is None else buckets
        self.quotas = quotas
        self.user = user

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        """The caller's read slot (``read_quota.py``) for the duration of the context."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()

    async def acquire(self) -> None:
        if self.quotas is not None:
            await self.quotas.acquire(self.user, self)

    def release(self) -> None:
        if self.quotas is not None:
            self.quotas.release(self.user)

    async def releasing(self, read: Awaitable[Read]) -> Read:
        """``read``; the caller's read slot is released when it ends."""
        try:
            return await read
        finally:
            self.release()

    def reserve(self) -> int:
        """A filtered page's share: what is left of the request's (none: refused) and of the
        caller's."""
        reserved = min(MAX_BUCKETS_PER_PAGE, self.left)
        if reserved == 0:
            raise TooCostly(f"this request's filtered pages have read {MAX_BUCKETS_PER_REQUEST} buckets of "
                            f"{BUCKET_SIZE} records already; ask for fewer filtered pages per request",
                            reason="request_budget", limit=MAX_BUCKETS_PER_REQUEST)
        if self.quotas is not None:
            reserved = self.quotas.take(self.user, reserved)
        self.left -= reserved
        return reserved

    def settle(self, reserved: int, spent: int) -> None:
        """A filtered page reserved ``reserved`` reads and is charged ``spent``: the rest is given
        back, or what it took beyond is owed (``READ_SECONDS``)."""
        if spent <= reserved:
            self.refund(reserved - spent)
        else:
            self.charge(spent - reserved)

    def refund(self, unused: int) -> None:
        self.left += max(0, unused)
        self.charge(-max(0, unused))

    def check(self) -> None:
        """``RATE_LIMITED`` at once when the caller has no read left (before anything is read)."""
        if self.quotas is not None:
            self.quotas.check(self.user)

    def admit(self) -> None:
        """Before an unfiltered read: the caller must have a bucket's worth left (what it
        reads is paid afterwards, with ``charge``)."""
        self.check()

    def charge(self, buckets: int) -> None:
        if self.quotas is not None:
            self.quotas.charge(self.user, buckets)


async def page(services: Services, dataset: DatasetDoc, query: RecordQuery, order: RecordOrder,
               after: Keyset | None, first: int, hidden_metadata: frozenset[str],
               budget: ReadBudget | None = None, counted: bool = False) -> RecordPage:
    """A page; ``counted``: its total will be asked for, so a count the service would refuse
    is refused before the page reads a bucket (the refusal came after the page's 20 bucket
    reads, which a 30-alias query with ``totalCount`` made three times a request)."""
    storage = services.storage
    sized = Sized(storage, dataset, services.limits.max_scan_records)
    budget = budget or ReadBudget()
    if order.by_value:
        _check_sortable(dataset, order, hidden_metadata)
        # No index serves it on either server: MongoDB would need one per metadata property and
        # question (a collection holds at most 64), FerretDB sorts in memory anyway.
        await sized.check("sorting by metadata or a suggestion score", "sort by INSERTED_AT")
    elif order.by_updated and (query.conditions() or not storage.paths.sorts_by_index):
        await sized.check("sorting by update time", "sort by INSERTED_AT, or filter by ids or words")
    # Reserved before any lookup, and before waiting for the caller's read slot: a page past
    # the request's share costs the database nothing, and refuses the request at once.
    walked = bool(query.conditions()) and not order.by_updated
    reserved = budget.reserve() if walked else MAX_BUCKETS_PER_PAGE
    if not walked:
        budget.admit()
    try:
        await budget.acquire()
    except BaseException:
        budget.refund(reserved if walked else 0)
        raise
    # Not cut off midway when a sibling alias is refused: a cancelled read makes the driver drop
    # its connection, and FerretDB then closes a PostgreSQL backend that must be started again
    # (2.6 s of PostgreSQL's CPU in 11 s of bench/worst_query's attack). The read holds the
    # caller's slot until it ends, cancelled or not.
    try:
        query, matches, read = await storage.uncancellable.run(
            budget.releasing(_read(services, sized, counted, query, order, after, first, reserved)))
    except TooCostly:
        budget.refund(reserved if walked else 0)
        raise
    if walked:
        budget.settle(reserved, read.reads)
    else:
        budget.charge(SORTED_PAGE_READS if order.by_updated else read.reads)
    return RecordPage(read.records, read.has_next, hidden_metadata,
                      lambda: _total(sized, query, matches, budget), read.resume)


async def _read(services: Services, sized: Sized, counted: bool, query: RecordQuery, order: RecordOrder,
                after: Keyset | None, first: int, max_reads: int) -> tuple[RecordQuery, Matches | None, PageRead]:
    """The query as narrowed (ranges by band, then by what an index says), and the page; if
    ``counted``, ``QUERY_TOO_COSTLY`` between the two when the page's total could not be counted."""
    storage = services.storage
    query = await storage.records.banded(query)
    matches = await _narrowing(storage, query, sized.dataset.get("next_seq", 0))
    if matches is not None:
        query = replace(query, within=matches.buckets, words=matches.words or query.words)
    if counted and _scans_to_count(query, matches):
        await sized.check_count()
    seq_end = sized.dataset.get("next_seq", 0)
    if not query.conditions() or order.sort_path is not None:
        return query, matches, await storage.records.page(query, order, after, first, seq_end, max_reads)
    return query, matches, await _walked_page(storage, query, order, after, first, seq_end, max_reads)


async def _walked_page(storage: Storage, query: RecordQuery, order: RecordOrder, after: Keyset | None,
                       first: int, seq_end: int, max_reads: int) -> PageRead:
    """A filtered page in insertion order, within its share of reads and of time
    (``READ_SECONDS``, ``MIN_READ_AHEAD``); a short one is charged its time when that is more."""
    started = time.monotonic()
    read = await storage.records.page(query, order, after, first, seq_end, max_reads,
                                      max_seconds=max_reads * READ_SECONDS, read_ahead=max_reads >= MIN_READ_AHEAD)
    if len(read.records) == first:  # what it read it returned: a filled page pays its reads
        return read
    took = math.ceil((time.monotonic() - started) / READ_SECONDS)
    return replace(read, reads=max(read.reads, took))


def _check_sortable(dataset: DatasetDoc, order: RecordOrder, hidden_metadata: frozenset[str]) -> None:
    """The metadata property or question sorted by is the dataset's (a metadata property hidden
    from the caller is answered as one that does not exist)."""
    if order.metadata is not None:
        names = {p["name"] for p in dataset.get("metadata_properties", [])} - hidden_metadata
        if order.metadata not in names:
            raise Invalid(f"this dataset has no metadata property {order.metadata!r}; one of "
                          f"{sorted(names)}", ["sort", "name"])
    if order.score_of is not None:
        questions = [q["name"] for q in dataset.get("questions", [])]
        if order.score_of not in questions:
            raise Invalid(f"this dataset has no question {order.score_of!r}; one of {questions}",
                          ["sort", "name"])


class Sized:
    """Allows a read of the whole dataset only when it has at most ``max_scan_records``."""

    def __init__(self, storage: Storage, dataset: DatasetDoc, max_scan_records: int) -> None:
        self.storage = storage
        self.dataset = dataset
        self.max_scan_records = max_scan_records

    async def counters(self) -> dict[str, Any]:
        return await progress.counters(self.storage, self.dataset)

    async def check_count(self) -> None:
        await self.check("counting the records this filter matches",
                         "leave totalCount out, or filter by ids, words or your own responses")

    async def check(self, what: str, instead: str) -> None:
        records: int = (await self.counters())["records"]
        if records > self.max_scan_records:
            raise TooCostly(
                f"{what} would read all {records} records of this dataset (allowed up to "
                f"{self.max_scan_records}); {instead}", reason="unindexed", limit=self.max_scan_records)


async def _narrowing(storage: Storage, query: RecordQuery, seq_end: int) -> Matches | None:
    """What an index says about the query's matches (None: nothing, or too many to narrow)."""
    matches = await storage.records.matches(query, MAX_MATCHES, seq_end)
    if matches is not None or query.answered_as is None:
        return matches
    statuses, user = query.answered_as
    buckets = await storage.responses.buckets_of_user(query.dataset_id, user, statuses, MAX_OWN_RESPONSES)
    if buckets is None:
        return None
    # Without other conditions the caller's responses are the count; with them it is unknown.
    only_mine = query.conditions() == {"answered_as"}
    return Matches(len(buckets) if only_mine else -1, frozenset(number_of(bucket) for bucket in buckets))


def _scans_to_count(query: RecordQuery, matches: Matches | None) -> bool:
    """Whether counting ``query``'s matches reads the whole dataset: neither the counters nor the
    index lookup (``matches``) answer it (``_total``)."""
    if matches is not None and (matches.count >= 0 or len(matches.buckets) <= MAX_COUNTED_BUCKETS):
        return False
    conditions = query.conditions()
    return not (not conditions or (conditions == {"statuses"} and len(query.statuses) == 1)
                or (conditions == {"answered_as"} and query.answered_as is not None))


async def _total(sized: Sized, query: RecordQuery, matches: Matches | None, budget: ReadBudget) -> int:
    """From the counters or the index lookup when they tell; else a count, which reads the
    whole dataset on FerretDB, in small datasets only."""
    if matches is not None and matches.count >= 0:
        return matches.count
    conditions = query.conditions()
    counted: int
    if not conditions:
        counted = (await sized.counters())["records"]
        return counted
    if conditions == {"statuses"} and len(query.statuses) == 1:
        counted = (await sized.counters())[query.statuses[0]]
        return counted
    if conditions == {"answered_as"} and query.answered_as is not None:
        return await _answered_by(sized, query.answered_as)
    if _scans_to_count(query, matches):
        await sized.check_count()
    async with budget.reading():
        budget.admit()
        counted = await sized.storage.records.count(query)
        read = len(query.within) if query.within is not None else \
            math.ceil((await sized.counters())["records"] / BUCKET_SIZE)
        budget.charge(read)
    return counted


async def _answered_by(sized: Sized, answered_as: tuple[tuple[str, ...], str]) -> int:
    """Records the user has a response of one of ``statuses`` to: their counters (one
    response per record, so the statuses' counts add up)."""
    statuses, user = answered_as
    counters = (await sized.storage.tallies.of_users(sized.dataset["_id"], user)).get(user, {})
    return sum(counters.get(status, 0) for status in statuses)
