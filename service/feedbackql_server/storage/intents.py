"""Writes in progress: what a crash could leave half done, so start-up can finish it.

Answering writes two documents (the response, then its record's state) and neither MongoDB
without transactions nor FerretDB can write both at once; then the dataset's counters move.
Adding and deleting records likewise write the records, then the counters; a change of
``minSubmitted`` rewrites the status of every record. An intent is written before such writes
and removed after them, whatever their outcome (``writing``); whatever intents a start-up finds
name the records to bring back in step with their responses (``record_id``) and the datasets
to check (``dataset_id``: ``domain/invariants.py``). The collection holds only the writes of
this moment, so a recount that finds none of a dataset knows no write of it is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from feedbackql_server.errors import DomainError

Doc = dict[str, Any]
Finish = Callable[[ObjectId], Awaitable[object]]
log = logging.getLogger("feedbackql_server.intents")
FIRST_RETRY_SECONDS, LAST_RETRY_SECONDS = 1.0, 30.0


class IntentRepo:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection
        self.retrying: set[asyncio.Task[None]] = set()
        self._stranded: set[ObjectId] = set()
        """Intents a failure left open, closed (their writes finished first) as soon as the
        database takes writes again: a full disk freed left four open until a restart."""

    async def begin(self, record_id: ObjectId | None, dataset_id: ObjectId | None = None) -> ObjectId:
        """Before writes of a record's responses and state (``record_id``) and of the dataset's
        counters (``dataset_id``)."""
        intent_id = ObjectId()
        await self.collection.insert_one({"_id": intent_id, "record_id": record_id, "dataset_id": dataset_id})
        return intent_id

    async def begin_counting(self, dataset_id: ObjectId) -> ObjectId:
        """Before writes that move the dataset's counters along with its records."""
        return await self.begin(None, dataset_id)

    @contextlib.asynccontextmanager
    async def writing(self, record_id: ObjectId | None, dataset_id: ObjectId | None,
                      finish: Finish | None = None) -> AsyncIterator[None]:
        """An intent for the writes of the block, ended however the block ends.

        A refusal (a ``DomainError``: a conflict, a record deleted meanwhile) wrote nothing
        that needs finishing. After another failure (the database went away mid-way) ``finish``
        brings the writes in step at once; only if that fails too does the intent stay, for
        the next start-up to finish. ``finish`` is given the intent, which it may ignore
        (a recount waits for the dataset's other writes in flight)."""
        intent = await self.begin(record_id, dataset_id)
        try:
            yield
        except DomainError:
            await self.end(intent)
            raise
        except Exception:
            if await _finished(finish, intent):
                await self.end(intent)
            else:
                self._close_later(intent, finish)
            raise
        await self.end(intent)

    async def end(self, intent_id: ObjectId) -> None:
        """Remove the intent; if the database refuses now, again later until it is gone."""
        try:
            await self.collection.delete_one({"_id": intent_id})
        except Exception:
            self._close_later(intent_id, None)
            raise

    def _close_later(self, intent: ObjectId, finish: Finish | None) -> None:
        task = asyncio.ensure_future(self._close_when_possible(intent, finish))
        self.retrying.add(task)
        self._stranded.add(intent)
        task.add_done_callback(self.retrying.discard)
        task.add_done_callback(lambda _task: self._stranded.discard(intent))

    def stranded(self) -> frozenset[ObjectId]:
        """This process's intents whose writes failed and ended, waiting to be finished: no
        write in flight holds them, so a recount need not wait for them (each waited for the
        others, and none was ever finished while the disk had been full)."""
        return frozenset(self._stranded)

    async def _close_when_possible(self, intent: ObjectId, finish: Finish | None) -> None:
        pause = FIRST_RETRY_SECONDS
        while True:
            await asyncio.sleep(pause)
            with contextlib.suppress(Exception):
                if finish is not None:
                    await finish(intent)
                await self.collection.delete_one({"_id": intent})
                return
            pause = min(pause * 2, LAST_RETRY_SECONDS)

    def close(self) -> None:
        """Stop retrying: what is still open is finished by the next start-up."""
        for task in self.retrying:
            task.cancel()

    async def left_over(self) -> list[Doc]:
        return await self.collection.find({}).to_list()

    async def of_dataset(self, dataset_id: ObjectId) -> list[Doc]:
        """The writes of the dataset in flight (or left over by a crash)."""
        return await self.collection.find({"dataset_id": dataset_id}).to_list()


async def _finished(finish: Finish | None, intent: ObjectId) -> bool:
    """Whether ``finish`` (if any) brought a failed write in step."""
    if finish is None:
        return True
    try:
        await finish(intent)
    except Exception:
        log.warning("a write failed and could not be finished now; the next start-up will", exc_info=True)
        return False
    return True
