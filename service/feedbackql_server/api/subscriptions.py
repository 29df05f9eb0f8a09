"""The root ``Subscription`` type: live progress and response events of a dataset."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

import strawberry

from feedbackql_server.api import access, resolvers
from feedbackql_server.api.context import Context, Info
from feedbackql_server.api.distribution import DatasetProgress, ResponseChange
from feedbackql_server.domain import progress
from feedbackql_server.errors import Unauthenticated
from feedbackql_server.policy import responses as policy_responses

RECHECK_SECONDS = 1.0


class AccessCheck:
    """Checks, at most once per ``RECHECK_SECONDS``, that the subscriber still has its key and
    still sees the dataset: a revocation through another replica ends the stream too."""

    def __init__(self, ctx: Context, dataset_id: str) -> None:
        self.ctx = ctx
        self.dataset_id = dataset_id
        self.checked = time.monotonic()

    async def __call__(self) -> None:
        if time.monotonic() - self.checked < RECHECK_SECONDS:
            return
        if not await self.ctx.reauthenticate():
            raise Unauthenticated("this API key no longer gives access")
        await access.dataset(self.ctx, self.dataset_id)
        self.checked = time.monotonic()


@strawberry.type
class Subscription:
    @resolvers.subscription(description=(
        "A progress snapshot now, then a new one whenever responses change (at most one per "
        "FEEDBACKQL_PROGRESS_INTERVAL_SECONDS)."))
    async def dataset_progress(
        self, info: Info, dataset_id: strawberry.ID
    ) -> AsyncGenerator[DatasetProgress, None]:
        ctx = info.context
        dataset = await access.dataset(ctx, dataset_id)
        still_allowed = AccessCheck(ctx, dataset_id)
        async with ctx.events.subscribe(dataset["_id"]) as events:
            yield DatasetProgress.of(await progress.dataset_progress(ctx.storage, dataset))
            while True:
                await events.get()
                await asyncio.sleep(ctx.settings.progress_interval_seconds)
                events.drain()  # everything that arrived meanwhile is in the next snapshot
                await still_allowed()
                current = await ctx.storage.datasets.get(dataset["_id"]) or dataset
                yield DatasetProgress.of(await progress.dataset_progress(ctx.storage, current))

    @resolvers.subscription(description="Responses written or deleted; annotators get only their own.")
    async def response_changes(
        self, info: Info, dataset_id: strawberry.ID
    ) -> AsyncGenerator[ResponseChange, None]:
        ctx = info.context
        dataset = await access.dataset(ctx, dataset_id)
        still_allowed = AccessCheck(ctx, dataset_id)
        async with ctx.events.subscribe(dataset["_id"]) as events:
            while True:
                event = await events.get()
                await still_allowed()
                if policy_responses.sees_all(ctx.caller) or event.user_id == ctx.caller.id:
                    yield ResponseChange.of(event)
