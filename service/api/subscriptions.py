"""The root ``Subscription`` type: live progress and response events of a dataset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from feedbackql.api import access
from feedbackql.api.distribution import DatasetProgress, ResponseChange
from feedbackql.api.types import Info
from feedbackql.domain import progress
from feedbackql.policy import responses as policy_responses


@strawberry.type
class Subscription:
    @strawberry.subscription(description=(
        "A progress snapshot now, then a new one whenever responses change (at most one per "
        "FEEDBACKQL_PROGRESS_INTERVAL_SECONDS)."))
    async def dataset_progress(
        self, info: Info, dataset_id: strawberry.ID
    ) -> AsyncGenerator[DatasetProgress, None]:
        ctx = info.context
        dataset = await access.dataset(ctx, dataset_id)
        async with ctx.events.subscribe(dataset["_id"]) as events:
            yield DatasetProgress.of(await progress.dataset_progress(ctx.storage, dataset))
            while True:
                await events.get()
                await asyncio.sleep(ctx.settings.progress_interval_seconds)
                events.drain()  # everything that arrived meanwhile is in the next snapshot
                current = await ctx.storage.datasets.get(dataset["_id"]) or dataset
                yield DatasetProgress.of(await progress.dataset_progress(ctx.storage, current))

    @strawberry.subscription(description="Responses written or deleted; annotators get only their own.")
    async def response_changes(
        self, info: Info, dataset_id: strawberry.ID
    ) -> AsyncGenerator[ResponseChange, None]:
        ctx = info.context
        dataset = await access.dataset(ctx, dataset_id)
        sees_all = policy_responses.sees_all(ctx.caller)
        async with ctx.events.subscribe(dataset["_id"]) as events:
            while True:
                event = await events.get()
                if sees_all or event.user_id == ctx.caller.id:
                    yield ResponseChange.of(event)
