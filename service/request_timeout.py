"""A deadline for producing a response; streamed responses are bounded only until they start."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedbackql.http_errors import error_response


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
        started = False
        deadline = asyncio.timeout(self.seconds)

        async def send_and_lift_deadline(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, send_and_lift_deadline)
        except TimeoutError:
            if started or not deadline.expired():
                raise
            message = f"the request took longer than {self.seconds:g} s; ask for less per request"
            await error_response(503, "TIMEOUT", message)(scope, receive, send)
