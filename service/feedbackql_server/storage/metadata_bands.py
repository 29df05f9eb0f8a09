"""Which bands of each metadata property's numbers a dataset's records have: what a range filter
is looked up by.

A range (``ge``/``le``) is no equality FerretDB hands PostgreSQL, so a page filtered by one
decoded every record of each bucket it read (~25 ms a bucket of 100): an annotator's three
pages of a range that matches nothing took the labeler loop's p95 to 1.71 x
(``bench/worst_query.py``). Each number of a record's metadata has a band key among its
``metadata_keys`` (``filter_keys.band_key``), and this collection keeps one document per
(dataset, property, band) that a record has had. A range is then the bands within it that
exist: none (nothing can match, nothing is read), a few (one lookup per band's key, as for a
few values), or many (the page walks and decodes buckets as before: such a range spans much of
the data, and fills a page in a few buckets).

Documents are only ever inserted, before the records that need them, and deleted with their
dataset: a band no record has any more stays, which costs a lookup, never a miss. An insert is
idempotent (the ``_id`` names the band), so concurrent writers need no lock, and each process
remembers the bands it knows exist.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from feedbackql_server.storage.filter_keys import number_bands

Doc = dict[str, Any]
Band = tuple[str, int]
DUPLICATE_KEY = 11000
KNOWN = 100_000
"""Bands a process remembers as stored (the least recently registered are looked up again)."""


class MetadataBands:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection
        self.known: OrderedDict[tuple[ObjectId, str, int], None] = OrderedDict()

    async def register(self, dataset_id: ObjectId, metadata: Iterable[Mapping[str, Any] | None]) -> None:
        """Store the bands of these records' metadata that are not stored yet: before the
        records are written, so that every stored number's band is found by ``of_property``."""
        new = [band for band in bands_of(metadata) if (dataset_id, *band) not in self.known]
        if not new:
            return
        docs = [{"_id": _band_id(dataset_id, name, band), "dataset_id": dataset_id, "name": name, "band": band}
                for name, band in new]
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:  # stored by another writer meanwhile: what was wanted
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise
        for name, band in new:
            self.known[(dataset_id, name, band)] = None
        while len(self.known) > KNOWN:
            self.known.popitem(last=False)

    async def stored(self, dataset_id: ObjectId) -> set[Band]:
        """Every band stored for the dataset (``feedbackql check``)."""
        return {(doc["name"], doc["band"]) async for doc in
                self.collection.find({"dataset_id": dataset_id}, {"name": 1, "band": 1})}

    async def of_property(self, dataset_id: ObjectId, name: str) -> set[int]:
        """The bands of metadata ``name`` that the dataset's records have (or had)."""
        return {doc["band"] async for doc in
                self.collection.find({"dataset_id": dataset_id, "name": name}, {"band": 1})}

    async def delete_dataset(self, dataset_id: ObjectId) -> None:
        await self.collection.delete_many({"dataset_id": dataset_id})
        await self.forget(dataset_id)

    async def forget(self, dataset_id: ObjectId) -> None:
        """The dataset is deleted: the bands this process knew of go (``dataset_memory.py``)."""
        for key in [key for key in self.known if key[0] == dataset_id]:
            del self.known[key]


def bands_of(metadata: Iterable[Mapping[str, Any] | None]) -> set[Band]:
    """The bands of these records' metadata."""
    return {band for doc in metadata for band in number_bands(doc)}


def _band_id(dataset_id: ObjectId, name: str, band: int) -> str:
    return f"{dataset_id}:{band}:{name}"
