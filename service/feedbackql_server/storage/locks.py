"""Write serialization inside one service process: per record (striped) and per key (counted).

FerretDB 1.24 applies an update as read-modify-write without isolation, so two concurrent
updates of one document can lose one of them (seen in the concurrent-submit test: a record's
per-user response state fell behind its responses; and editing a dataset's guidelines while
labelers answered wrote back counters read before their increments). On FerretDB these locks
are what serializes the writes of a document, which is why the embedded database is served by
one process. MongoDB updates are atomic per document, and with MongoDB's paths the writes that
must not interleave are compare-and-set as well (``storage/queue.py``; ``storage/paths.py``
decides), which several replicas need: these locks only order the writers of one process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable, Iterable

STRIPES = 1024


class RecordLocks:
    """A fixed set of asyncio locks; a record maps to one by hash."""

    def __init__(self, stripes: int = STRIPES) -> None:
        self._locks = [asyncio.Lock() for _ in range(stripes)]

    def busy(self, key: Hashable) -> bool:
        """Whether someone in this process holds or awaits the key's lock right now."""
        return self._locks[hash(key) % len(self._locks)].locked()

    @contextlib.asynccontextmanager
    async def hold(self, keys: Iterable[Hashable]) -> AsyncIterator[None]:
        """Hold the locks of all ``keys``, taken in one global order (no deadlock)."""
        indexes = sorted({hash(key) % len(self._locks) for key in keys})
        async with contextlib.AsyncExitStack() as stack:
            for index in indexes:
                await stack.enter_async_context(self._locks[index])
            yield


class KeyedLocks:
    """One lock per key, existing only while someone holds or awaits it.

    A dictionary of locks that were never removed grew with every dataset (and every labeler
    of every dataset) the process had seen, deleted ones included; here a key's lock goes when
    its last user leaves, so the size is bounded by the writes in flight."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
