"""Records' content: bulk inserts and content replacement, lookups by id and external id, filtered
pages with keyset cursors, text search by word, counts. (Their work state is ``queue.py``'s.)"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from bson import ObjectId
from pymongo import InsertOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from feedbackql_server.documents import RESPONSE_STATUSES, RecordDoc
from feedbackql_server.errors import Invalid
from feedbackql_server.paging import SCORES, Keyset, RecordOrder
from feedbackql_server.size_limits import RECORD_BATCH
from feedbackql_server.storage.bounded import find_all
from feedbackql_server.storage.buckets import BUCKET_SIZE, Sent, bucket_key, number_of, placed, scan, walk
from feedbackql_server.storage.content import pack, unpack
from feedbackql_server.storage.filter_keys import (
    LAST_BAND,
    METADATA_KEYS,
    RESPONSE_KEYS,
    UNORDERED,
    band_key,
    band_of,
    metadata_key,
    metadata_keys,
    nothing_key,
    range_keyable,
    response_key,
)
from feedbackql_server.storage.lookups import find_each
from feedbackql_server.storage.metadata_bands import MetadataBands, bands_of
from feedbackql_server.storage.queue import QUEUE_DEFAULTS

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
UPDATE_CONCURRENCY = 16
LAYOUT = ("seq", "bucket")
WORDS = "search_tokens"
HIDDEN = {WORDS: 0, "search_text": 0, SCORES: 0, RESPONSE_KEYS: 0, METADATA_KEYS: 0}
"""What reads leave out: the words only text search looks at, the scores only sorts look at,
the keys only filters look at (``filter_keys.py``)."""
COMMON_WORD_SECONDS = 600.0
COMMON_WORDS = 10_000
MAX_LEADS = 3
"""Words of a search tried, one after another, as the one looked up by index."""
SAMPLED_BUCKETS = 4
"""Buckets read to tell a common word before probing it (``RecordRepo._looks_common``)."""
COMMON_ESTIMATE = 10
"""How many times the index lookup's limit a sampled word's scaled share must make to be
taken for common without proof (``RecordRepo._looks_common``)."""
MAX_KEYED_VALUES = 8
"""Values of a metadata condition a bucket read looks up one by one, by key (``_bucket_filters``)."""
MAX_BUCKETS_PER_PAGE = 20
"""Buckets (of ``BUCKET_SIZE`` records) a filtered page reads at most before it answers with
what it found (see ``_walked_page``)."""
CONTENT_KEYS = ("fields", "suggestions", "metadata", "content_hash", "input_hash", WORDS)
KEYED_CONDITIONS = frozenset({METADATA_KEYS, RESPONSE_KEYS, "status"})
"""Top-level equalities of ``_conditions`` that select a part of a dataset (``keyed_ids``)."""
STATE = ("dataset_id", "status", "counted_min", *(f"{status}_by" for status in RESPONSE_STATUSES))


@dataclass(frozen=True)
class MetadataCondition:
    """Metadata ``name`` is one of ``values`` and/or within [``ge``, ``le``]."""

    name: str
    values: Sequence[Any] | None = None
    ge: float | None = None
    le: float | None = None
    keys: tuple[str, ...] | None = None
    """For a range: the keys of the bands within it that records have (``RecordRepo.banded``);
    none: nothing matches. None: not looked up, or too many bands."""


@dataclass(frozen=True)
class RecordQuery:
    dataset_id: ObjectId
    statuses: Sequence[str] = ()
    response_statuses: Sequence[str] = ()
    external_ids: Sequence[str] | None = None
    words: Sequence[str] = ()
    """Every one of these words (``search_words.py``); the first is looked up by index."""
    metadata: Sequence[MetadataCondition] = ()
    answered_as: tuple[tuple[str, ...], str] | None = None
    """(statuses, user id string): only records that user has a response of one of those
    statuses to."""
    within: frozenset[int] | None = None
    """The only bucket numbers that can hold matches, when an index told (None: any)."""

    def conditions(self) -> frozenset[str]:
        """The names of the conditions in effect (``within`` narrows the read, it adds none)."""
        given = {"statuses": bool(self.statuses), "response_statuses": bool(self.response_statuses),
                 "external_ids": self.external_ids is not None, "words": bool(self.words),
                 "metadata": bool(self.metadata), "answered_as": self.answered_as is not None}
        return frozenset(name for name, present in given.items() if present)


@dataclass
class Inserted:
    """What an unordered insert did: the records written (batch index, id, seq, bucket) and
    the batch indexes refused, with a reason a person can act on."""

    records: list[tuple[int, ObjectId, int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    taken: list[tuple[int, Doc]] = field(default_factory=list)
    """Documents (as given) whose external id a stored record has: to re-add, not insert."""


EXISTING = ("_id", "ext_key", "content_hash", "input_hash", "seq", "bucket",
            *(f"{status}_by" for status in RESPONSE_STATUSES))
"""What a re-add needs to know about a record it names: whether it is unchanged (its hash)
and whether it has answers, without reading its content."""


@dataclass
class PageRead:
    records: list[RecordDoc]
    has_next: bool
    resume: Keyset | None = None
    """Where a page cut short by its read budget stopped; the next page reads on from there."""
    reads: int = 0
    """Buckets a filtered page read."""


@dataclass(frozen=True)
class Matches:
    """What an index said about a query: how many records match, and in which buckets."""

    count: int
    buckets: frozenset[int]
    words: tuple[str, ...] = ()
    """A text search's words, the one looked up by index first."""
    ids: frozenset[ObjectId] | None = None
    """The matching records themselves, when the index lookup read them (None: only buckets known)."""


class CommonWords:
    """Words found in more records of a dataset than an index lookup narrows, for a while. The
    probe that finds it out reads every record with the word on FerretDB, whatever its
    ``limit`` (2.7 s p50 for a word in all of 100,000 records: ``bench/worst_query.py``), and
    every page of such a search probed again. Forgetting is always safe: the word is probed anew."""

    def __init__(self, seconds: float = COMMON_WORD_SECONDS, size: int = COMMON_WORDS) -> None:
        self.seconds = seconds
        self.size = size
        self.until: OrderedDict[tuple[ObjectId, str], float] = OrderedDict()

    def known(self, key: tuple[ObjectId, str]) -> bool:
        until = self.until.get(key)
        if until is not None and until < time.monotonic():
            del self.until[key]
            return False
        return until is not None

    async def forget(self, dataset_id: ObjectId) -> None:
        """The dataset is deleted: its words go (their entries would otherwise wait to be pushed
        out by other datasets' words)."""
        for key in [key for key in self.until if key[0] == dataset_id]:
            del self.until[key]

    def remember(self, key: tuple[ObjectId, str]) -> None:
        self.until[key] = time.monotonic() + self.seconds
        self.until.move_to_end(key)
        if len(self.until) > self.size:
            self.until.popitem(last=False)


class RecordRepo:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        """``collection`` holds records as stored (``content.pack``); every read unpacks them."""
        self.collection = collection
        self.common_words = CommonWords()
        self.bands = MetadataBands(collection.database["metadata_bands"])

    async def existing(self, dataset_id: ObjectId, external_ids: Sequence[str], *,
                       probe: bool = False) -> dict[str, RecordDoc] | None:
        """The dataset's records with these external ids, by external id (``EXISTING`` only).

        A batch sent again is mostly the records of one stretch of buckets (a file loads in
        order): the first, middle and last ids are looked up, and if they are there, the
        buckets between them are read (one indexed read per 100 records) and only the ids not
        found there are looked up one by one. With ``probe``, None when none of the three
        exists: the caller inserts the batch, and the unique index returns any that exist.

        One indexed lookup per id, never a ``$in``: that reads the whole dataset on FerretDB.
        """
        wanted = list(dict.fromkeys(external_ids))
        probes = await self._by_external_ids(dataset_id, list({wanted[0], wanted[len(wanted) // 2], wanted[-1]}))
        if probe and not probes:
            return None
        found = {**probes, **await self._in_buckets(dataset_id, probes.values(), set(wanted), len(wanted))}
        found.update(await self._by_external_ids(dataset_id, [e for e in wanted if e not in found]))
        return found

    async def _by_external_ids(self, dataset_id: ObjectId, external_ids: Sequence[str]) -> dict[str, RecordDoc]:
        # The dataset goes in an ``$in``: FerretDB looks rows up by every top-level equality,
        # and the dataset's (every record of it) would make the lookup cost grow with the
        # dataset; this way only the external id selects rows.
        found = await find_each(self.collection, "ext_key", external_ids, also={"dataset_id": {"$in": [dataset_id]}},
                                projection=dict.fromkeys(EXISTING, 1))
        return {doc["ext_key"]: cast(RecordDoc, doc) for doc in found}

    async def _in_buckets(self, dataset_id: ObjectId, near: Iterable[RecordDoc], wanted: set[str],
                          count: int) -> dict[str, RecordDoc]:
        """The ``wanted`` records in the buckets from the first of ``near`` to ``count``
        records on (at most twice the buckets ``count`` records fill)."""
        seqs = [record["seq"] for record in near]
        if not seqs:
            return {}
        first = min(seqs) // BUCKET_SIZE
        last = min(max(max(seqs), min(seqs) + count - 1) // BUCKET_SIZE, first + 2 * (count // BUCKET_SIZE + 1))
        gate = asyncio.Semaphore(UPDATE_CONCURRENCY)

        async def read(number: int) -> list[Doc]:
            async with gate:
                return await self.collection.find({"bucket": bucket_key(dataset_id, number)},
                                                  dict.fromkeys(EXISTING, 1)).to_list()

        buckets = await asyncio.gather(*(read(number) for number in range(first, last + 1)))
        return {doc["ext_key"]: cast(RecordDoc, doc) for docs in buckets for doc in docs if doc["ext_key"] in wanted}

    async def insert(self, docs: Sequence[tuple[int, Doc]], first_seq: int) -> Inserted:
        """Insert new records in one unordered bulk write, numbered from ``first_seq`` on
        (numbers reserved by the caller). ``docs`` pairs each document with its index in the
        caller's batch, so that errors name what the caller sent. A document whose external id
        is taken is refused by the unique index, never written twice, and returned in ``taken``."""
        outcome = Inserted()
        if not docs:
            return outcome
        now = datetime.now(UTC)
        stored = [(index, _new_record({**doc, **placed(doc["dataset_id"], first_seq + position)}, now))
                  for position, (index, doc) in enumerate(docs)]
        for dataset_id in {doc["dataset_id"] for _, doc in docs}:
            await self.bands.register(dataset_id, [doc.get("metadata") for _, doc in docs
                                                   if doc["dataset_id"] == dataset_id])
        failures = dict(await self._bulk([InsertOne(pack(doc)) for _, doc in stored]))
        for position, (index, doc) in enumerate(stored):
            if position in failures and failures[position].get("code") == DUPLICATE_KEY and doc.get("external_id"):
                outcome.taken.append(docs[position])
            elif position in failures:
                outcome.errors.append((index, _write_error(failures[position])))
            else:
                outcome.records.append((index, doc["_id"], doc["seq"], doc["bucket"]))
        return outcome

    async def replace_content(self, record_id: ObjectId, doc: Doc) -> bool:
        """Set the record's content (fields, suggestions, metadata, their hash and search
        text), keeping its place, state and answers; False if it was deleted meanwhile.

        One single-statement command per record: FerretDB 1.24 (SQLite and PostgreSQL alike)
        deadlocks on an ``update`` command of a few dozen statements and then answers nothing
        until it is restarted."""
        content = {k: v for k, v in doc.items() if k in CONTENT_KEYS}
        if "metadata" in content:
            await self.bands.register(doc["dataset_id"], [content["metadata"]])
            content[METADATA_KEYS] = metadata_keys(content["metadata"])
        result = await self.collection.update_one(
            {"_id": record_id}, {"$set": {**pack(content), "updated_at": datetime.now(UTC)}})
        return result.matched_count == 1

    async def set_hashes(self, record_id: ObjectId, content_hash: str, input_hash: str) -> None:
        """Remember the hashes of a record found unchanged the slow way (stored before records
        had them, or sent in another form), so that the next re-add takes the fast path."""
        await self.collection.update_one({"_id": record_id},
                                         {"$set": {"content_hash": content_hash, "input_hash": input_hash}})

    async def _bulk(self, operations: Sequence[InsertOne[Doc]]) -> list[tuple[int, Doc]]:
        """Run an unordered bulk write; the [(position, error)] of the operations refused."""
        try:
            await self.collection.bulk_write(list(operations), ordered=False)
        except BulkWriteError as exc:
            return [(error["index"], error) for error in exc.details.get("writeErrors", [])]
        return []

    async def get(self, record_id: ObjectId) -> RecordDoc | None:
        doc = await self.collection.find_one({"_id": record_id}, HIDDEN)
        return None if doc is None else unpack(doc)

    async def by_ids(self, ids: Sequence[ObjectId]) -> list[RecordDoc]:
        return [unpack(doc) for doc in await find_each(self.collection, "_id", ids, projection=HIDDEN)]

    async def among(self, query: RecordQuery, ids: Sequence[ObjectId]) -> list[RecordDoc]:
        """The records of ``ids`` that match ``query``, in the order of ``ids``: one equality
        lookup each, the conditions checked by the database as in a page."""
        found = await find_each(self.collection, "_id", ids, also=_query(query), projection=HIDDEN,
                                batch_size=RECORD_BATCH)
        return [unpack(doc) for doc in found]

    async def keyed_ids(self, query: RecordQuery, limit: int) -> set[ObjectId] | None:
        """The ids of the records matching ``query`` when one of its conditions is a key
        PostgreSQL selects by (a metadata value, a few values or a range's few bands, response
        statuses, one status: ``filter_keys.py``) and at most ``limit`` match; else None. FerretDB
        then decodes only the key's records: a 1% metadata value of 20,000 records in 61-77 ms,
        against 3.4-4.2 s for the same condition on ``metadata.<name>``. Several keys are read
        one after another, each record once."""
        wheres = _bucket_filters(query)
        found: set[ObjectId] = set()
        for where in wheres if isinstance(wheres, list) else [wheres]:
            if not KEYED_CONDITIONS.intersection(where):
                return None
            docs = await self.collection.find({"dataset_id": query.dataset_id, **where}, {"_id": 1}).limit(
                limit + 1 - len(found)).to_list()
            found.update(doc["_id"] for doc in docs)
            if len(found) > limit:
                return None
        return found

    async def matching_ids(self, query: RecordQuery) -> set[ObjectId]:
        """The ids of every record that matches ``query``: a read of the dataset's matches
        (its whole records on FerretDB, which filters after reading)."""
        return {doc["_id"] for doc in await self.collection.find(_query(query), {"_id": 1}).to_list()}

    async def page(self, query: RecordQuery, order: RecordOrder, after: Keyset | None, first: int,
                   seq_end: int, max_reads: int = MAX_BUCKETS_PER_PAGE, max_seconds: float | None = None,
                   read_ahead: bool = True) -> PageRead:
        """Up to ``first`` records after ``after``, and whether more follow. In insertion
        order a page reads buckets (equality lookups) from the cursor on, so its cost does not
        grow with the dataset; in any other order it is a sorted query (the whole dataset on
        FerretDB, and for metadata and scores on MongoDB too: ``domain/listing.py`` decides
        when that is allowed). ``max_seconds``: a filtered page in insertion order also stops
        once its reads took that long (it says where, as when ``max_reads`` ran out);
        ``read_ahead``: whether it reads buckets ahead of the one it works on (``buckets.scan``)."""
        if order.sort_path is None:
            return await self._walked_page(query, order.descending, after, first, seq_end, max(1, max_reads),
                                           max_seconds, read_ahead)
        docs = await self._sorted_page(query, order, after, first + 1)
        return PageRead(docs[:first], len(docs) > first)

    async def _sorted_page(self, query: RecordQuery, order: RecordOrder, after: Keyset | None,
                           limit: int) -> list[RecordDoc]:
        direction = -1 if order.descending else 1
        where = _query(query)
        if after is not None:
            where = _and(where, _after(order, after))
        sort = [(order.sort_path, direction)] if order.sort_path else []
        docs = await find_all(self.collection, where, HIDDEN, batch_size=RECORD_BATCH,
                              sort=[*sort, ("_id", direction)], limit=limit)
        return [unpack(doc) for doc in docs]

    async def _walked_page(self, query: RecordQuery, descending: bool, after: Keyset | None,
                           first: int, seq_end: int, max_reads: int, max_seconds: float | None,
                           read_ahead: bool) -> PageRead:
        """Unfiltered, a page that ends on a bucket's end says more follow when records were
        numbered past it, without reading the next bucket (a page costs one bucket read, not
        two); only when every later record was deleted is the next page empty. Filtered, it
        reads on until it finds one more match, visiting only the buckets an index named
        (``query.within``), and reading at most ``max_reads``: a filter that
        matches little must not read the whole dataset for one page (nor read ahead past
        them: its ``reads`` are every bucket read sent, the caller's budget pays for them). A page
        cut short says more may follow and where it stopped (``resume``)."""
        start = None
        if after is not None:
            seq = after.seq if after.seq is not None else await self._seq_of(after.record_id)
            start = seq - 1 if descending else seq + 1
            if start < 0:
                return PageRead([], False)
        where = _bucket_filters(query)
        page: list[RecordDoc] = []
        reads, sent = 0, Sent()
        ends = time.monotonic() + max_seconds if max_seconds is not None else math.inf
        async with contextlib.aclosing(scan(
                self.collection, query.dataset_id, seq_end, start=start, descending=descending, where=where,
                projection=HIDDEN, only=query.within, read_ahead=read_ahead and bool(where),
                limit=max_reads if where else None,
                sent=sent)) as buckets:
            async for number, docs in buckets:
                page.extend(unpack(doc) for doc in docs)
                reads += 1
                if len(page) > first:
                    return PageRead(page[:first], True, reads=sent.reads)
                if len(page) == first and not where:
                    last_seq = page[-1]["seq"]
                    return PageRead(page, last_seq > 0 if descending else last_seq < seq_end - 1, reads=sent.reads)
                if where and (reads >= max_reads or time.monotonic() >= ends):
                    return self._cut_short(page, number, descending, seq_end, sent.reads)
        return PageRead(page, False, reads=sent.reads)

    @staticmethod
    def _cut_short(page: list[RecordDoc], number: int, descending: bool, seq_end: int, reads: int) -> PageRead:
        """A page that used its read budget after reading bucket ``number``."""
        position = number * BUCKET_SIZE if descending else (number + 1) * BUCKET_SIZE - 1
        more = position > 0 if descending else position < seq_end - 1
        return PageRead(page, more, Keyset(record_id=None, seq=position) if more else None, reads)

    async def matches(self, query: RecordQuery, limit: int, seq_end: int) -> Matches | None:
        """Count and buckets of the records matching ``query`` when an index narrows it to a
        few (a word, external ids) and they are at most ``limit``; else None. ``seq_end``: the
        dataset's ``next_seq``, where a word is sampled before it is looked up."""
        if any(condition.keys == () for condition in query.metadata):
            return Matches(0, frozenset(), ids=frozenset())  # a range within no stored band
        projection = {"bucket": 1}
        words = tuple(query.words)
        docs: list[Doc] | None
        if query.words:
            docs, words = await self._by_rarest_word(query, limit, projection, seq_end)
        elif query.external_ids is not None and len(query.external_ids) <= limit:
            also = {"dataset_id": {"$in": [query.dataset_id]}, **_conditions(query)}
            docs = await find_each(self.collection, "ext_key", list(query.external_ids), also=also,
                                   projection=projection)
        else:
            return None
        if docs is None or len(docs) > limit:
            return None
        return Matches(len(docs), frozenset(number_of(doc["bucket"]) for doc in docs), words,
                       frozenset(doc["_id"] for doc in docs))

    async def _by_rarest_word(self, query: RecordQuery, limit: int, projection: Doc,
                              seq_end: int) -> tuple[list[Doc] | None, tuple[str, ...]]:
        """The matches, looked up by the first of the (``MAX_LEADS`` first) words that is in at
        most ``limit`` records, and the words in that order; None when none is. Each word is
        sampled (``_looks_common``), then probed alone: with the other conditions FerretDB would
        read every record that has the word to find ``limit`` that match them all."""
        for position, word in enumerate(query.words[:MAX_LEADS]):
            if self.common_words.known((query.dataset_id, word)):
                continue
            if await self._looks_common(query.dataset_id, word, limit, seq_end):
                self.common_words.remember((query.dataset_id, word))
                continue
            probe = {"dataset_id": query.dataset_id, WORDS: word}
            if len(await self.collection.find(probe, {"_id": 1}).limit(limit + 1).to_list()) > limit:
                self.common_words.remember((query.dataset_id, word))
                continue
            words = (word, *query.words[:position], *query.words[position + 1:])
            led = _query(replace(query, words=words))
            return await self.collection.find(led, projection).to_list(), words
        return None, tuple(query.words)

    async def _looks_common(self, dataset_id: ObjectId, word: str, limit: int, seq_end: int) -> bool:
        """Whether ``word`` is in more than ``limit`` records, told from ``SAMPLED_BUCKETS``
        buckets spread over the dataset (each read returns only the records with the word).
        The probe it saves reads every record with the word on FerretDB, whatever its
        ``limit``: 1.5-2.5 s for a word in all of 100,000 records, against 0.1 s for three
        bucket reads (``bench/filtered_pages.py``). Common when the sample alone holds more
        than ``limit`` (a proof), or when all but one sampled bucket have the word and the
        sample, scaled to the dataset, makes ``COMMON_ESTIMATE`` times ``limit``; a word
        sampled wrongly as common is still found, by pages that read buckets in order."""
        last = (seq_end - 1) // BUCKET_SIZE
        if last + 1 <= SAMPLED_BUCKETS:
            return False  # the probe reads at most a sample's worth
        numbers = sorted({round(i * last / (SAMPLED_BUCKETS - 1)) for i in range(SAMPLED_BUCKETS)})
        found = await asyncio.gather(*(
            self.collection.find({"bucket": bucket_key(dataset_id, number), WORDS: word}, {"_id": 1}).to_list()
            for number in numbers))
        hits = sum(map(len, found))
        spread = sum(1 for docs in found if docs) >= len(numbers) - 1
        return hits > limit or (spread and hits * (last + 1) / len(numbers) > COMMON_ESTIMATE * limit)

    async def _seq_of(self, record_id: ObjectId | None) -> int:
        doc = None if record_id is None else await self.collection.find_one({"_id": record_id}, {"seq": 1})
        if doc is None or "seq" not in doc:
            raise Invalid("the record this cursor points at was deleted; start again without `after`",
                          ["after"])
        seq: int = doc["seq"]
        return seq

    async def stream(self, dataset_id: ObjectId, seq_end: int, *,
                     with_words: bool = False) -> AsyncIterator[list[RecordDoc]]:
        """Every record of the dataset in insertion order, a bucket at a time (with their
        search words when ``with_words``)."""
        projection = {key: 0 for key in HIDDEN if not (with_words and key == WORDS)}
        async for docs in walk(self.collection, dataset_id, seq_end, projection=projection, read_ahead=True):
            yield [unpack(doc) for doc in docs]

    async def set_words(self, record_id: ObjectId, content_hash: str | None, words: list[str]) -> bool:
        """Replace a record's search words, unless its content changed meanwhile (another
        writer then indexed it from its new content)."""
        result = await self.collection.update_one({"_id": record_id, "content_hash": content_hash},
                                                  {"$set": {WORDS: words}})
        return result.matched_count == 1

    async def words_version(self) -> int:
        """The ``search_words.WORDS_VERSION`` the stored words were read with (1: before it existed)."""
        doc = await self.collection.database["meta"].find_one({"_id": "search_words"})
        return int(doc["version"]) if doc else 1

    async def set_words_version(self, version: int) -> None:
        await self.collection.database["meta"].update_one(
            {"_id": "search_words"}, {"$set": {"version": version}}, upsert=True)

    async def count(self, query: RecordQuery) -> int:
        """Matches of ``query``: in the buckets of ``query.within`` (each an equality lookup)
        when given, else in the whole dataset."""
        if query.within is None:
            return await self.collection.count_documents(_query(query))
        where = _conditions(query)
        keys = [bucket_key(query.dataset_id, number) for number in sorted(query.within)]
        docs = await find_each(self.collection, "bucket", keys, also=where, projection={"_id": 1})
        return len(docs)

    async def states(self, dataset_id: ObjectId) -> list[RecordDoc]:
        """The status and answer lists of every record of the dataset (reads it whole)."""
        return [unpack(doc) for doc in
                await self.collection.find({"dataset_id": dataset_id}, dict.fromkeys(STATE, 1)).to_list()]

    async def delete_dataset(self, dataset_id: ObjectId) -> None:
        await self.collection.delete_many({"dataset_id": dataset_id})
        await self.bands.delete_dataset(dataset_id)

    async def check_metadata_keys(self, dataset_id: ObjectId, seq_end: int, *, repair: bool) -> tuple[int, int]:
        """How many records' ``metadata_keys`` are not their metadata's, and how many bands of
        their numbers are not stored (``metadata_bands.py``): a page would miss such records.
        With ``repair``, the bands are stored, then each record's keys set, on condition that
        its content is still the one read (a write meanwhile sets the keys itself)."""
        stale, missing = 0, 0
        stored = await self.bands.stored(dataset_id)
        projection = {"seq": 1, "metadata": 1, "content_hash": 1, METADATA_KEYS: 1}
        async for records in walk(self.collection, dataset_id, seq_end, projection=projection):
            metadata = [record.get("metadata") for record in records]
            absent = bands_of(metadata) - stored
            missing += len(absent)
            stored |= absent
            if repair and absent:
                await self.bands.register(dataset_id, metadata)
            for record in records:
                keys = metadata_keys(record.get("metadata"))
                if set(record.get(METADATA_KEYS) or []) == set(keys):
                    continue
                stale += 1
                if repair:
                    await self.collection.update_one(
                        {"_id": record["_id"], "content_hash": record.get("content_hash")},
                        {"$set": {METADATA_KEYS: keys}})
        return stale, missing

    async def banded(self, query: RecordQuery) -> RecordQuery:
        """``query`` with each range of a property's numbers resolved to the keys of the bands
        within it that the dataset's records have (``metadata_bands.py``): none, when nothing
        can match; left as it is when there are more than ``MAX_KEYED_VALUES`` of them."""
        resolved = [await self._banded(query.dataset_id, condition) for condition in query.metadata]
        return replace(query, metadata=resolved) if resolved != list(query.metadata) else query

    async def _banded(self, dataset_id: ObjectId, condition: MetadataCondition) -> MetadataCondition:
        if condition.values is not None or (condition.ge is None and condition.le is None) \
                or not range_keyable(condition.name):
            return condition
        stored = await self.bands.of_property(dataset_id, condition.name)
        if UNORDERED in stored:
            return condition
        low = band_of(condition.ge) if condition.ge is not None else 0
        high = band_of(condition.le) if condition.le is not None else LAST_BAND
        within = sorted(band for band in stored if low <= band <= high)
        if len(within) > MAX_KEYED_VALUES:
            return condition
        return replace(condition, keys=tuple(band_key(condition.name, band) for band in within))


def _new_record(doc: Doc, now: datetime) -> RecordDoc:
    record_id = ObjectId()
    return cast(RecordDoc, {
        **doc,
        "_id": record_id,
        "ext_key": doc.get("external_id") or str(record_id),
        "status": "pending",
        **{f"{status}_by": [] for status in RESPONSE_STATUSES},
        "response_versions": {},
        RESPONSE_KEYS: [],
        METADATA_KEYS: metadata_keys(doc.get("metadata")),
        **QUEUE_DEFAULTS,
        "created_at": now,
        "updated_at": now,
    })


def _write_error(error: Doc) -> str:
    if error.get("code") == DUPLICATE_KEY:
        return "a record with this externalId was added concurrently; send the record again"
    return "the database refused this record"


def _query(query: RecordQuery) -> Doc:
    """The whole filter: the dataset's equality at the top (the part FerretDB pushes down)."""
    return {"dataset_id": query.dataset_id, **_conditions(query)}


def _conditions(query: RecordQuery) -> Doc:
    """The filter without the dataset (a bucket key names it already). Conditions that can be
    top-level equalities are: FerretDB hands those to PostgreSQL, which then returns only the
    matching documents of what it reads, and FerretDB decodes only those (a bucket read of
    ``status: completed`` in a dataset with none decodes nothing)."""
    pushed: Doc = {}
    conditions: list[Doc] = []
    if len(query.statuses) == 1:
        pushed["status"] = query.statuses[0]
    elif query.statuses:
        conditions.append({"status": {"$in": list(query.statuses)}})
    if query.response_statuses:
        pushed[RESPONSE_KEYS] = response_key(query.response_statuses)
        conditions.append({"$or": [{f"{s}_by.0": {"$exists": True}} for s in query.response_statuses]})
    if query.external_ids is not None:
        conditions.append({"external_id": {"$in": list(query.external_ids)}})
    for condition in query.metadata:
        conditions.append(_metadata_condition(condition))
    key = next((key for key in map(_metadata_key, query.metadata) if key is not None), None)
    if key is not None:
        pushed[METADATA_KEYS] = key
    if query.answered_as is not None:
        statuses, user_key = query.answered_as
        if len(statuses) == 1:
            pushed[f"{statuses[0]}_by"] = user_key  # an array that holds the user's id
        else:
            conditions.append({"$or": [{f"{status}_by": user_key} for status in statuses]})
    if query.words:
        # The first word as a top-level equality: PostgreSQL's index on search_tokens then
        # selects only the records that have it.
        pushed[WORDS] = query.words[0]
        conditions.extend({WORDS: word} for word in query.words[1:])
    return {**pushed, "$and": conditions} if conditions else pushed


def _bucket_filters(query: RecordQuery) -> Doc | list[Doc]:
    """What a page's bucket read sends: ``_conditions``, or, for a metadata condition of a few
    values when no key is pushed down already, one filter per value's key (an ``$in`` is no
    equality FerretDB hands down; a few lookups that return only matches cost less than one
    that decodes the whole bucket)."""
    where = _conditions(query)
    if METADATA_KEYS in where:
        return where
    for condition in query.metadata:
        keys = list(condition.keys) if condition.keys is not None else \
            [metadata_key(condition.name, value) for value in condition.values or []]
        if 1 < len(keys) <= MAX_KEYED_VALUES and None not in keys:
            return [{**where, METADATA_KEYS: key} for key in dict.fromkeys(keys)]
    return where


def _metadata_key(condition: MetadataCondition) -> str | None:
    """The key a record matching ``condition`` has, when it needs one value or band (``filter_keys.py``)."""
    if condition.keys is not None:
        if not condition.keys:
            return nothing_key(condition.name)
        return condition.keys[0] if len(condition.keys) == 1 else None
    if condition.values is None or len(condition.values) > 1:
        return None
    return metadata_key(condition.name, condition.values[0]) if condition.values else nothing_key(condition.name)


def _and(where: Doc, condition: Doc) -> Doc:
    """``where`` and ``condition``, the equalities of ``where`` kept at the top. Wrapping the
    whole filter in ``$and`` hid the dataset's equality from FerretDB, which then read and
    decoded every record of the collection: a sorted page of a 1,000-record dataset took 4.2 s
    (p50) beside 10,000 other records (``bench/worst_query.py``)."""
    return {**where, "$and": [*where.get("$and", []), condition]}


def _metadata_condition(condition: MetadataCondition) -> Doc:
    path = f"metadata.{condition.name}"
    parts: list[Doc] = []
    if condition.values is not None:
        parts.append({path: {"$in": list(condition.values)}})
    bounds: Doc = {}
    if condition.ge is not None:
        bounds["$gte"] = condition.ge
    if condition.le is not None:
        bounds["$lte"] = condition.le
    if bounds:
        parts.append({path: bounds})
    return {"$and": parts} if parts else {}


def _after(order: RecordOrder, after: Keyset) -> Doc:
    op = "$lt" if order.descending else "$gt"
    path = order.sort_path
    if path is None:
        return {"_id": {op: after.record_id}}
    tie = {path: after.sort_value, "_id": {op: after.record_id}}
    if not order.by_value:
        return {"$or": [{path: {op: after.sort_value}}, tie]}
    # Records without the value (missing or null) sort first ascending, last descending.
    if after.sort_value is None:
        return {"$or": [tie, {path: {"$ne": None}}]} if not order.descending else tie
    later = [{path: {op: after.sort_value}}, tie]
    return {"$or": [*later, {path: None}] if order.descending else later}
