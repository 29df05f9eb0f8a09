"""Reading documents for many keys as one equality lookup per key.

FerretDB evaluates ``$in`` itself after reading every document of the collection (it pushes
down only top-level equality), so ``{"_id": {"$in": ids}}`` costs a read of the whole
collection however few ids it names. One indexed lookup per key, a few at a time, costs the
same whatever the collection's size, on FerretDB and on MongoDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from feedbackql_server.storage.bounded import find_all

Doc = dict[str, Any]
Document = TypeVar("Document", bound=Mapping[str, Any])
T = TypeVar("T")
CONCURRENCY = 16


async def find_each(collection: AsyncCollection[Document], key: str, values: Sequence[Hashable],
                    also: Doc | None = None, projection: Doc | None = None, batch_size: int = 0) -> list[Document]:
    """Documents whose ``key`` equals one of ``values`` (and that match ``also``), grouped in
    the order of ``values``; read in batches of ``batch_size`` (0: the server's choice) when a
    key can match many documents (``bounded``)."""
    found = await a_few_at_a_time(find_all(collection, {key: value, **(also or {})}, projection,
                                           batch_size=batch_size) for value in dict.fromkeys(values))
    return [doc for docs in found for doc in docs]


async def a_few_at_a_time(commands: Iterable[Awaitable[T]], concurrency: int = CONCURRENCY) -> list[T]:
    """Await ``commands`` (one database command each), at most ``concurrency`` at once; their
    results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(command: Awaitable[T]) -> T:
        async with gate:
            return await command

    return list(await asyncio.gather(*(one(command) for command in commands)))
