"""Reads whose every batch fits in one wire message, and that degrade per document when not.

FerretDB 1.24 fills a batch by count alone and never splits one by size, so a read of many
large documents can answer with a message over the wire limit, which PyMongo refuses
(``size_limits`` has the measurements). Reads of documents with capped sizes ask for batches
that fit (``size_limits.RECORD_BATCH``, ``RESPONSE_BATCH``). Documents written before the caps,
or straight into the database, can still be bigger: a read that meets one then falls back to
reading the matching documents one at a time (a document is at most 16 MiB, well within a
message), so one oversized document costs its own bucket a slower read, never the dataset's
readability.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DocumentTooLarge, ProtocolError

Doc = dict[str, Any]
CONCURRENCY = 4
"""Reads at once when documents are read one at a time: each may be up to 16 MiB."""
Document = TypeVar("Document", bound=Mapping[str, Any])
log = logging.getLogger("feedbackql_server.storage")


def too_large(exc: Exception) -> bool:
    """Whether ``exc`` is a reply refused for its size (PyMongo checks a reply's length
    against the server's ``maxMessageSizeBytes`` before reading it)."""
    return isinstance(exc, DocumentTooLarge) or (
        isinstance(exc, ProtocolError) and "max message size" in str(exc))


async def find_all(collection: AsyncCollection[Document], selector: Doc, projection: Doc | None = None, *,
                   batch_size: int, sort: Sequence[tuple[str, int]] = (), limit: int = 0) -> list[Document]:
    """The documents ``find(selector)`` returns, in batches of ``batch_size``; when a batch is
    still too large for a message, every document is read on its own (same order)."""
    try:
        return await _find(collection, selector, projection, batch_size, sort, limit)
    except (ProtocolError, DocumentTooLarge) as exc:
        if not too_large(exc):
            raise
    ids = [doc["_id"] for doc in await _find(collection, selector, {"_id": 1}, 0, sort, limit)]
    log.warning("a read of %d document(s) of %s was too large for one message (documents written "
                "over the size limits?): reading them one at a time", len(ids), collection.name)
    return await _each(collection, ids, projection)


async def _each(collection: AsyncCollection[Document], ids: Sequence[Any], projection: Doc | None) -> list[Document]:
    """The documents with ``ids``, one read each; one that still cannot come back (larger
    than a message: no server here stores such) is logged and left out, not the rest."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(document_id: Any) -> Document | None:
        async with gate:
            try:
                return await collection.find_one({"_id": document_id}, projection)
            except (ProtocolError, DocumentTooLarge) as exc:
                if not too_large(exc):
                    raise
                log.error("document %s of %s is too large to be read; it is left out", document_id, collection.name)
                return None

    found = await asyncio.gather(*(one(document_id) for document_id in ids))
    return [doc for doc in found if doc is not None]


async def _find(collection: AsyncCollection[Document], selector: Doc, projection: Doc | None, batch_size: int,
                sort: Sequence[tuple[str, int]], limit: int) -> list[Document]:
    cursor = collection.find(selector, projection, batch_size=batch_size, limit=limit)
    if sort:
        cursor = cursor.sort(list(sort))
    return await cursor.to_list()
