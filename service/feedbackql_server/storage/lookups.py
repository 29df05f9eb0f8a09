"""Reading documents for many keys as one equality lookup per key.

FerretDB evaluates ``$in`` itself after reading every document of the collection (it pushes
down only top-level equality), so ``{"_id": {"$in": ids}}`` costs a read of the whole
collection however few ids it names. One indexed lookup per key, a few at a time, costs the
same whatever the collection's size, on FerretDB and on MongoDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from feedbackql_server.storage.bounded import find_all

Doc = dict[str, Any]
Document = TypeVar("Document", bound=Mapping[str, Any])
CONCURRENCY = 16


async def find_each(collection: AsyncCollection[Document], key: str, values: Sequence[Hashable],
                    also: Doc | None = None, projection: Doc | None = None, batch_size: int = 0) -> list[Document]:
    """Documents whose ``key`` equals one of ``values`` (and that match ``also``), grouped in
    the order of ``values``; read in batches of ``batch_size`` (0: the server's choice) when a
    key can match many documents (``bounded``)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(value: Hashable) -> list[Document]:
        async with gate:
            return await find_all(collection, {key: value, **(also or {})}, projection, batch_size=batch_size)

    found = await asyncio.gather(*(one(value) for value in dict.fromkeys(values)))
    return [doc for docs in found for doc in docs]
