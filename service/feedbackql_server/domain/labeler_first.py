"""The labeler loop goes first: listing reads pause between buckets while a labeler's
``nextRecords`` or ``submitResponse`` runs in this process.

Nothing queues a labeler behind a listing read (the driver's pool has 100 connections,
FerretDB's 50 to PostgreSQL, and listings take no record lock), but on a small machine the
database's CPU is shared: an annotator reading its quota of buckets back to back (a filtered
page that finds nothing reads 20 of them, each decoded whole by FerretDB) kept one core busy,
and the labeler loop's p95 went from 437 to 1,755 ms (4.0 x, ``bench/worst_query.py`` at 10,000
records, beside a control attacker at 1.1 x). So a listing waits before each bucket read until
no labeler-loop operation is running, but never more than ``wait_seconds`` a bucket: a page is
slowed, not starved, by a busy queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

WAIT_SECONDS = 0.1
"""The longest a listing waits, per bucket read, for labeler-loop operations to end."""


class LabelerFirst:
    """Labeler-loop operations running in this process, and the wait listing reads take for them."""

    def __init__(self, wait_seconds: float = WAIT_SECONDS) -> None:
        self.wait_seconds = wait_seconds
        self.running = 0
        self.idle = asyncio.Event()
        self.idle.set()

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """A labeler-loop operation, for its duration."""
        self.running += 1
        self.idle.clear()
        try:
            yield
        finally:
            self.running -= 1
            if self.running == 0:
                self.idle.set()

    async def turn(self) -> None:
        """Before a listing's bucket read: wait for the running labeler-loop operations, up to
        ``wait_seconds``."""
        if self.running:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.wait_seconds):
                    await self.idle.wait()
