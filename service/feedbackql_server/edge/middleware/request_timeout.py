"""A deadline for producing a response; streamed responses are bounded only until they start."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Receive, Scope, Send

from feedbackql_server.edge.errors import StartTracker, error_response

DEADLINE_LIFTED = "feedbackql.deadline_lifted"


def lift_deadline(scope: Scope) -> None:
    """For a response that must be made whole before it starts: a training export states its
    counts in its headers, so it makes every row first. Once its request is checked it is
    bounded like a stream that has started (by the client), not by the deadline."""
    scope[DEADLINE_LIFTED] = True


class RequestTimeout:
    """ASGI middleware: 503 ``TIMEOUT`` when no response has started within ``seconds``.

    Writes that must not be cut in half (an answer and its record's state) shield
    themselves; everything else may be cancelled safely.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracker = StartTracker(send)
        # The app runs as its own task, so that the deadline is decided in one place: a
        # response that has not started is cancelled; one that has is left to finish.
        task = asyncio.ensure_future(self.app(scope, receive, tracker.send))
        try:
            await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task.done() or tracker.started or scope.get(DEADLINE_LIFTED):
            await task
            return
        task.cancel()
        # A cancelled app may still answer: PyMongo reports an operation cut short as a network
        # error, which the app then answers as such. Then that answer stands.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if tracker.started:
            return
        message = f"the request took longer than {self.seconds:g} s; ask for less per request"
        await error_response(503, "TIMEOUT", message)(scope, receive, send)
