"""A broker fed by a MongoDB change stream on ``responses``, and start-up detection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from feedbackql_server.events.broker import Broker, InProcessBroker, ResponseEvent

log = logging.getLogger("feedbackql_server.events")


class ChangeStreamBroker(InProcessBroker):
    """Every replica watches the collection and fans events out to its own subscribers, so
    an answer written through one replica reaches subscribers of all of them."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        super().__init__()
        self.db = db
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._watch())

    async def publish(self, event: ResponseEvent) -> None:
        return None  # the change stream delivers it, to every replica

    async def _watch(self) -> None:
        while True:
            try:
                async with await self.db["responses"].watch(full_document="updateLookup") as stream:
                    async for change in stream:
                        document = change.get("fullDocument")
                        if document is not None:
                            await super().publish(ResponseEvent.of(document))
            except asyncio.CancelledError:
                raise
            except PyMongoError:
                log.exception("response change stream failed; reopening in 1 s")
                await asyncio.sleep(1)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await super().close()


async def open_broker(db: AsyncDatabase[dict[str, Any]]) -> Broker:
    """The change-stream broker when the server supports change streams, else in-process."""
    try:
        async with await db["responses"].watch(max_await_time_ms=1):
            pass
    except PyMongoError as exc:
        log.info("no change streams (%s); live updates are in-process", type(exc).__name__)
        return InProcessBroker()
    broker = ChangeStreamBroker(db)
    broker.start()
    log.info("live updates come from MongoDB change streams")
    return broker
