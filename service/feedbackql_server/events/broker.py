"""The broker interface and the in-process broker."""

from __future__ import annotations

import asyncio
import contextlib
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


class Subscription:
    """Events of one dataset for one subscriber. A subscriber that falls more than
    ``QUEUE_SIZE`` events behind loses the oldest ones and is told so by ``lagged``."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ResponseEvent | None] = asyncio.Queue(QUEUE_SIZE)
        self.lagged = False
        self.ended = False

    def put(self, event: ResponseEvent | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.lagged = True
        self.queue.put_nowait(event)

    def end(self) -> None:
        """No event will come: the waiting ``get`` (and every later one) raises ``SubscriptionEnded``."""
        self.ended = True
        self.put(None)

    async def get(self) -> ResponseEvent:
        event = await self.queue.get()
        if event is None or self.ended:
            raise SubscriptionEnded
        return event

    def drain(self) -> list[ResponseEvent]:
        events = []
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if event is not None:
                events.append(event)
        if self.ended:
            raise SubscriptionEnded
        return events


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

    async def close(self) -> None:
        self.subscribers.clear()
