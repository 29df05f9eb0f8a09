"""A broker fed by a MongoDB change stream on ``responses``, and start-up detection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from feedbackql_server.events.broker import Broker, InProcessBroker, ResponseEvent

log = logging.getLogger("feedbackql_server.events")

HISTORY_LOST = frozenset({286, 280})
"""ChangeStreamHistoryLost and ChangeStreamFatalError: the oplog no longer holds the point a
stream was to resume from."""


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
        """Reopens a failed stream where it stopped (its resume token), so that no event is lost
        while the database was out of reach (PyMongo resumes once by itself; this covers longer
        outages). When the database no longer has that point, a new stream starts from now and
        every subscriber is told events were missed."""
        resume: Mapping[str, Any] | None = None
        while True:
            stream: AsyncChangeStream[dict[str, Any]] | None = None
            try:
                stream = await self.db["responses"].watch(full_document="updateLookup", start_after=resume)
                async with stream:
                    async for change in stream:
                        document = change.get("fullDocument")
                        if document is not None:
                            await super().publish(ResponseEvent.of(document))
                        resume = stream.resume_token
            except asyncio.CancelledError:
                raise
            except PyMongoError as exc:
                if stream is not None and stream.resume_token is not None:
                    resume = stream.resume_token
                if resume is not None and isinstance(exc, OperationFailure) and exc.code in HISTORY_LOST:
                    log.warning("response change stream cannot resume (%s): starting from now; "
                                "subscribers are told events were missed", exc.code)
                    resume = None
                    self.missed_all()
                    continue
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
