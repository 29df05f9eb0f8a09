"""Records in insertion order, addressable by equality: the layout every hot read uses.

Each record of a dataset gets a sequence number ``seq`` (0, 1, 2 ... in insertion order,
reserved a batch at a time from the dataset's ``next_seq``) and a ``bucket`` key naming the
dataset and ``seq // BUCKET_SIZE``. Reading records in order is then reading buckets one
after another, each one equality lookup of at most ``BUCKET_SIZE`` documents: the cost of a
page, of the labeler queue's pool and of an export step does not grow with the dataset
(FerretDB evaluates sorts and ranges itself after reading every document the equality part
of a filter selects; MongoDB serves the same lookups from the ``bucket`` index).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, Any]
BUCKET_SIZE = 100

RecordPlace = tuple[ObjectId, str]
"""A record's id and its bucket: enough to find its responses, which keep the bucket."""


def bucket_key(dataset_id: ObjectId, number: int) -> str:
    return f"{dataset_id}:{number}"


def placed(dataset_id: ObjectId, seq: int) -> Doc:
    """The layout fields of the record numbered ``seq``."""
    return {"seq": seq, "bucket": bucket_key(dataset_id, seq // BUCKET_SIZE)}


async def walk(collection: AsyncCollection[Doc], dataset_id: ObjectId, seq_end: int, *,
               start: int | None = None, descending: bool = False, where: Doc | None = None,
               projection: Doc | None = None) -> AsyncIterator[list[Doc]]:
    """The dataset's records matching ``where``, a bucket at a time, ordered by ``seq`` from
    ``start`` (inclusive; default: the first or, descending, the last) up to ``seq_end``."""
    if seq_end <= 0:
        return
    last = (seq_end - 1) // BUCKET_SIZE
    if start is None:
        start = seq_end - 1 if descending else 0
    number, step = start // BUCKET_SIZE, -1 if descending else 1
    while 0 <= number <= last:
        docs = await collection.find({**(where or {}), "bucket": bucket_key(dataset_id, number)},
                                     projection).to_list()
        docs = [doc for doc in docs if (doc["seq"] <= start if descending else doc["seq"] >= start)]
        docs.sort(key=lambda doc: doc["seq"], reverse=descending)
        if docs:
            yield docs
        number += step
