"""A subscriber is never handed a stream of response events with a hole in it as if it were
whole: when events are dropped (it fell ``QUEUE_SIZE`` behind, or the change stream could not
resume where it stopped), its next ``get`` says so, and ``responseChanges`` ends with
``UNAVAILABLE`` so that the client reads again (``events/broker.py``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from bson import ObjectId

from feedbackql_server.events import EventsMissed, InProcessBroker, ResponseEvent, SubscriptionEnded
from feedbackql_server.events.broker import QUEUE_SIZE


def event(dataset_id: ObjectId, version: int) -> ResponseEvent:
    return ResponseEvent(dataset_id=dataset_id, record_id=ObjectId(), user_id=ObjectId(), status="submitted",
                         version=version, at=datetime.now(UTC))


async def test_a_subscriber_that_falls_behind_is_told_instead_of_losing_events_silently() -> None:
    broker, dataset = InProcessBroker(), ObjectId()
    async with broker.subscribe(dataset) as slow, broker.subscribe(dataset) as keeping_up:
        for version in range(QUEUE_SIZE):
            await broker.publish(event(dataset, version))
            assert (await keeping_up.get()).version == version
        await broker.publish(event(dataset, QUEUE_SIZE))  # one more than ``slow`` can hold
        await broker.publish(event(dataset, QUEUE_SIZE + 1))
        with pytest.raises(EventsMissed):
            await slow.get()
        assert (await slow.get()).version == QUEUE_SIZE + 1  # what came after the gap, in order
        assert [(await keeping_up.get()).version for _ in range(2)] == [QUEUE_SIZE, QUEUE_SIZE + 1]


async def test_a_gap_in_the_change_stream_reaches_every_subscriber_and_deletion_still_ends_them() -> None:
    broker, first, second = InProcessBroker(), ObjectId(), ObjectId()
    async with broker.subscribe(first) as a, broker.subscribe(second) as b:
        await broker.publish(event(first, 1))
        broker.missed_all()
        for subscription in (a, b):
            with pytest.raises(EventsMissed):
                await asyncio.wait_for(subscription.get(), 1)
        broker.missed_all()
        await broker.forget(first)
        with pytest.raises(SubscriptionEnded):
            await a.get()
        with pytest.raises(EventsMissed):
            await b.get()
