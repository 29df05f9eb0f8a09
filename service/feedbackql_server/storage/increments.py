"""Counter increments of one document, written one write at a time, merged while one is in flight.

FerretDB applies ``$inc`` as an unisolated read-modify-write, so this process serializes the
increments of a document. One write per caller, one after another, made every submission of a
busy dataset queue behind the others' counter writes (seconds at 200 labelers). Instead the
increments that arrive while a write is in flight are summed and go together in the next one
(a group commit): a caller returns once a write carrying its increment is acknowledged, and a
failed write fails every caller whose increment it carried.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Mapping

from feedbackql_server.storage.locks import KeyedLocks

Write = Callable[[Hashable, dict[str, int]], Awaitable[None]]


class GroupedIncrements:
    def __init__(self, write: Write, locks: KeyedLocks | None = None) -> None:
        """``locks``: shared with other writers of the same documents (``storage/datasets.py``
        writes the dataset document that holds the dataset's counters)."""
        self._write = write
        self._locks = locks if locks is not None else KeyedLocks()
        self._open: dict[Hashable, tuple[dict[str, int], asyncio.Future[None]]] = {}
        """Per key: the sums waiting for the next write, and that write."""

    def lock(self, key: Hashable) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while the key's document is written: for other writes of the same document."""
        return self._locks.hold(key)

    async def add(self, key: Hashable, increments: Mapping[str, int]) -> None:
        # Shielded: a caller that is cancelled must not cancel the write others wait for.
        await asyncio.shield(self.join(key, increments))

    def join(self, key: Hashable, increments: Mapping[str, int]) -> asyncio.Future[None]:
        """Put the increments in the key's next write, at once (no await: the batch is still
        open), and give that write; await it shielded."""
        if key not in self._open:
            waiting: dict[str, int] = {}
            flush = asyncio.ensure_future(self._flush(key, waiting))
            flush.add_done_callback(_retrieve)
            self._open[key] = (waiting, flush)
        sums, written = self._open[key]
        for name, value in increments.items():
            sums[name] = sums.get(name, 0) + value
        return written

    async def _flush(self, key: Hashable, sums: dict[str, int]) -> None:
        async with self._locks.hold(key):
            del self._open[key]  # from here on, increments go to the next write
            nonzero = {name: value for name, value in sums.items() if value}
            if nonzero:
                await self._write(key, nonzero)


def _retrieve(written: asyncio.Future[None]) -> None:
    """Mark a failure as seen: every caller that waited for it has raised it already."""
    if not written.cancelled():
        written.exception()
