"""Refuse request bodies over a size limit before anything reads them into memory."""

from __future__ import annotations

from pymongo.errors import PyMongoError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedbackql_server.database.errors import unreachable
from feedbackql_server.edge.errors import error_response
from feedbackql_server.edge.middleware.outage import unavailable


class BodyTooLarge(Exception):
    pass


class Refused(Exception):
    """Raised from ``receive`` to stop reading a body; carries the answer to send instead."""

    def __init__(self, response: Response) -> None:
        self.response = response


class AnonymousBodyLimit:
    """ASGI middleware: a body over ``max_bytes`` is read only for a caller whose key works.

    Anyone could otherwise make the server parse megabytes of JSON (and coerce them) before
    any resolver asks who they are. A missing or unknown key gets 401 before the body is
    read; one indexed lookup of the key's hash decides. The limit counts the bytes read, not
    the ``Content-Length`` header: a chunked body has none, and a 12 MB one was read and
    parsed. Such a body is let through until it passes ``max_bytes``; then the key decides."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit():
            refusal = await self._refusal(scope) if int(declared) > self.max_bytes else None
            await (refusal or self.app)(scope, receive, send)
            return
        try:
            await self.app(scope, self._counting(scope, receive), send)
        except Refused as refused:
            await refused.response(scope, receive, send)

    def _counting(self, scope: Scope, receive: Receive) -> Receive:
        received = 0
        checked = False

        async def counting_receive() -> Message:
            nonlocal received, checked
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes and not checked:
                checked = True
                refusal = await self._refusal(scope)
                if refusal is not None:
                    raise Refused(refusal)
            return message

        return counting_receive

    async def _refusal(self, scope: Scope) -> Response | None:
        """None when the caller's key works; else the answer that refuses the body."""
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        try:
            user = await scope["app"].state.services.authenticate(authorization)
        except PyMongoError as error:
            if not unreachable(error):
                raise
            return unavailable()
        if user is not None:
            return None
        message = (f"bodies over {self.max_bytes} bytes need a valid API key: "
                   "send 'Authorization: Bearer <key>'")
        return error_response(401, "UNAUTHENTICATED", message)


class BodySizeLimit:
    """ASGI middleware: 413 for a declared or streamed body larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body larger than {self.max_bytes} bytes; send smaller batches"
        await error_response(413, "PAYLOAD_TOO_LARGE", message)(scope, receive, send)
