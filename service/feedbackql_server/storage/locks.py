"""Per-record write serialization inside one service process.

FerretDB 1.24 applies an update as read-modify-write without isolation, so two concurrent
updates of one document can lose one of them (seen in the concurrent-submit test: a record's
per-user response state fell behind its responses). MongoDB updates are atomic per document;
there the lock costs a dictionary look-up. Several replicas need MongoDB.
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
