"""Work that must finish once started, even when the request that began it is cancelled: writes
(a response and its record's state), reads whose cancellation would cost the database more than
finishing them (``domain/listing.py``), and keyed requests whose answer is kept
(``domain/idempotency.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Uncancellable:
    """Runs each write as its own task and shields it, so that cancelling the caller (a
    request timeout, a dropped connection) cannot stop it half way; ``drain`` waits for
    the ones still running before the database client is closed."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()

    async def run(self, write: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(write)
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return await asyncio.shield(task)

    async def drain(self) -> None:
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
