"""A database that cannot be reached is ``UNAVAILABLE`` (503) in the usual error shape."""

from __future__ import annotations

import asyncio

from pymongo.errors import PyMongoError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from feedbackql_server.database.errors import unreachable
from feedbackql_server.edge.errors import StartTracker, error_response


def unavailable() -> JSONResponse:
    return error_response(503, "UNAVAILABLE", "the database is unavailable; try again shortly",
                          headers={"Retry-After": "5"})


class DatabaseOutage:
    """ASGI middleware: a request that fails on an unreachable database before it started
    answering (authentication, an export) gets 503 ``UNAVAILABLE``, not a plain-text 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracker = StartTracker(send)
        try:
            await self.app(scope, receive, tracker.send)
        except PyMongoError as error:
            if not unreachable(error):
                raise
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # PyMongo reports an operation cut short by cancellation (a request timeout)
                # as a network error: it is the cancellation, answered by whoever cancelled.
                raise asyncio.CancelledError from None
            if tracker.started:
                raise
            await unavailable()(scope, receive, send)
