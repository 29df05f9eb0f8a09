"""The broker interface and the in-process broker."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bson import ObjectId

from feedbackql_server.documents import ResponseDoc

QUEUE_SIZE = 1000


@dataclass(frozen=True)
class ResponseEvent:
    dataset_id: ObjectId
    record_id: ObjectId
    user_id: ObjectId
    status: str  # submitted | draft | discarded | deleted
    version: int
    at: datetime

    @classmethod
    def of(cls, response: ResponseDoc) -> ResponseEvent:
        return cls(dataset_id=response["dataset_id"], record_id=response["record_id"],
                   user_id=response["user_id"], status=response["status"],
                   version=response["version"], at=response["updated_at"])


class SubscriptionEnded(Exception):
    """The subscription's dataset was deleted: no event will come."""


class EventsMissed(Exception):
    """Events of the dataset were dropped before this subscriber got them: it fell
    ``QUEUE_SIZE`` events behind, or the database's change stream could not resume where it
    stopped. What the subscriber shows must be read again."""


class Signal(enum.Enum):
    ENDED = "ended"
    MISSED = "missed"


class Subscription:
    """Events of one dataset for one subscriber, in order. When some are dropped (a subscriber
    more than ``QUEUE_SIZE`` behind, a gap in the change stream), the ones still queued are
    dropped too and ``get`` raises ``EventsMissed`` in their place: a subscriber is never
    handed a stream with a hole in it as if it were whole."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ResponseEvent | Signal] = asyncio.Queue(QUEUE_SIZE)
        self.ended = False

    def put(self, event: ResponseEvent) -> None:
        if self.queue.full():
            self.missed()
        else:
            self.queue.put_nowait(event)

    def missed(self) -> None:
        """Events were dropped: the next ``get`` raises ``EventsMissed``."""
        self._replace_queue(Signal.MISSED)

    def end(self) -> None:
        """No event will come: the waiting ``get`` (and every later one) raises ``SubscriptionEnded``."""
        self.ended = True
        self._replace_queue(Signal.ENDED)

    def _replace_queue(self, signal: Signal) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(signal)

    async def get(self) -> ResponseEvent:
        event = await self.queue.get()
        if event is Signal.ENDED or self.ended:
            raise SubscriptionEnded
        if event is Signal.MISSED:
            raise EventsMissed
        return event

    def drain(self) -> None:
        """Drops what is queued (a subscriber that re-reads its state needs none of it)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        if self.ended:
            raise SubscriptionEnded


class Broker(Protocol):
    async def publish(self, event: ResponseEvent) -> None:
        """Called after a response was written (a no-op where the database emits events)."""

    def subscribe(self, dataset_id: ObjectId) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Events of the dataset from now on, for as long as the context is open."""

    async def forget(self, dataset_id: ObjectId) -> None:
        """The dataset is deleted: its subscriptions end (``SubscriptionEnded``)."""

    async def close(self) -> None: ...


class InProcessBroker:
    def __init__(self) -> None:
        self.subscribers: defaultdict[ObjectId, set[Subscription]] = defaultdict(set)

    async def publish(self, event: ResponseEvent) -> None:
        for subscription in list(self.subscribers.get(event.dataset_id, ())):
            subscription.put(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, dataset_id: ObjectId) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self.subscribers[dataset_id].add(subscription)
        try:
            yield subscription
        finally:
            left = self.subscribers.get(dataset_id)
            if left is not None:
                left.discard(subscription)
                if not left:
                    del self.subscribers[dataset_id]

    async def forget(self, dataset_id: ObjectId) -> None:
        for subscription in self.subscribers.pop(dataset_id, ()):
            subscription.end()

    def missed_all(self) -> None:
        """Events of any dataset may have been dropped: every subscriber is told (``EventsMissed``)."""
        for subscriptions in self.subscribers.values():
            for subscription in subscriptions:
                subscription.missed()

    async def close(self) -> None:
        self.subscribers.clear()
