"""The root ``Subscription`` type: live progress and response events of a dataset."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator

import strawberry

from feedbackql_server.api import resolvers
from feedbackql_server.api.context import Context, Info
from feedbackql_server.api.distribution import DatasetProgress, ResponseChange
from feedbackql_server.errors import Unauthenticated, Unavailable
from feedbackql_server.events import EventsMissed

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
        await self.ctx.session.dataset(self.dataset_id)
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
        dataset = await ctx.session.dataset(dataset_id)
        still_allowed = AccessCheck(ctx, dataset_id)
        async with ctx.session.subscribe(dataset) as events:
            yield DatasetProgress.of(await ctx.session.dataset_progress(dataset))
            while True:
                with contextlib.suppress(EventsMissed):  # a snapshot is read again either way
                    await events.get()
                await asyncio.sleep(ctx.settings.progress_interval_seconds)
                events.drain()  # everything that arrived meanwhile is in the next snapshot
                await still_allowed()
                yield DatasetProgress.of(await ctx.session.dataset_progress(dataset, reread=True))

    @resolvers.subscription(description=(
        "Responses written or deleted; annotators get only their own. Ends with `UNAVAILABLE` when "
        "events were dropped before you got them (you fell 1,000 events behind, or the database's "
        "change stream broke for longer than it keeps history): read again, then subscribe again."))
    async def response_changes(
        self, info: Info, dataset_id: strawberry.ID
    ) -> AsyncGenerator[ResponseChange, None]:
        ctx = info.context
        dataset = await ctx.session.dataset(dataset_id)
        still_allowed = AccessCheck(ctx, dataset_id)
        async with ctx.session.subscribe(dataset) as events:
            while True:
                try:
                    event = await events.get()
                except EventsMissed:
                    raise Unavailable("response events were dropped before you got them: read what you "
                                      "show again, then subscribe again") from None
                await still_allowed()
                if ctx.session.sees_response_of(event.user_id):
                    yield ResponseChange.of(event)
