"""``Idempotency-Key`` on ``POST /graphql`` mutations and on the upload route.

ASGI middleware, inside the request timeout and outside the database-outage handler: it reads
the body, claims the caller's key for the request's SHA-256 (domain/idempotency.py), runs the
request with its answer captured, keeps the answer, and sends it. A retry with the same key
and body gets the kept answer (header ``Idempotency-Replayed: true``) and nothing runs again;
because the request runs to its end even when the timeout answers first, the retry finds the
work done, not half done. Queries, requests without the header and callers without a valid
key pass through untouched (the app answers them as ever).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from graphql import GraphQLError, OperationType, parse
from graphql.language import OperationDefinitionNode
from pymongo.errors import PyMongoError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedbackql_server.database.errors import unreachable
from feedbackql_server.domain.idempotency import Answer, kept, not_kept_error
from feedbackql_server.domain.session import Services
from feedbackql_server.edge.errors import domain_error_response
from feedbackql_server.edge.middleware.outage import unavailable
from feedbackql_server.errors import DomainError, Invalid

HEADER = "idempotency-key"
REPLAYED = "Idempotency-Replayed"
MAX_KEY_LENGTH = 255
KEY_FORM = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
"""Visible ASCII (a UUID, a ULID, a hash): anything else is refused, not truncated."""
UPLOAD = re.compile(r"/datasets/[^/]+/records")


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_FORM.fullmatch(key):
            await domain_error_response(_bad_key())(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _Replay(body, receive)
        if scope["path"] == "/graphql" and not _is_mutation(body):
            await self.app(scope, replay.receive, send)
            return
        try:
            await self._keyed(scope, replay, send, key, body)
        except PyMongoError as error:
            if not unreachable(error):
                raise
            await unavailable()(scope, replay.receive, send)

    async def _keyed(self, scope: Scope, replay: _Replay, send: Send, key: str, body: bytes) -> None:
        services: Services = scope["app"].state.services
        user = await services.authenticate(Headers(scope=scope).get("authorization"))
        if user is None:
            await self.app(scope, replay.receive, send)  # the app says UNAUTHENTICATED
            return
        requests = services.session(user).idempotent_requests()
        digest = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        captured = _Captured()
        try:
            begun = await requests.begin(key, digest)
            if isinstance(begun, Answer):
                await _replayed(begun)(scope, replay.receive, send)
                return
            await requests.complete(begun, self._run(scope, replay, captured))
        except DomainError as error:
            await domain_error_response(error)(scope, replay.receive, send)
            return
        await captured.forward(send)

    async def _run(self, scope: Scope, replay: _Replay, captured: _Captured) -> Answer:
        await self.app(scope, replay.receive, captured.send)
        return kept(captured.status, captured.media_type, bytes(captured.body))


def _key(scope: Scope) -> str | None:
    """The request's Idempotency-Key when it is a POST to a route that takes one."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    if scope["path"] != "/graphql" and not UPLOAD.fullmatch(scope["path"]):
        return None
    return Headers(scope=scope).get(HEADER)


def _bad_key() -> Invalid:
    return Invalid(f"the Idempotency-Key is 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID will do)",
                   ["Idempotency-Key"], reason="idempotency_key")


def _is_mutation(body: bytes) -> bool:
    """Whether the body asks for a mutation; anything unreadable is left to the app."""
    try:
        request = json.loads(body)
        document = parse(request["query"])
    except (ValueError, KeyError, TypeError, RecursionError, GraphQLError):
        return False
    name = request.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (not name or (d.name is not None and d.name.value == name))]
    return len(operations) == 1 and operations[0].operation is OperationType.MUTATION


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


@dataclass
class _Replay:
    """Gives the app the body already read, then the client's own messages (a disconnect)."""

    body: bytes
    inner: Receive
    sent: bool = False

    async def receive(self) -> Message:
        if self.sent:
            return await self.inner()
        self.sent = True
        return {"type": "http.request", "body": self.body, "more_body": False}


@dataclass
class _Captured:
    """The app's answer, held until it has been kept; then sent to the first caller whole."""

    status: int = 500
    media_type: str = "application/json"
    body: bytearray = field(default_factory=bytearray)
    messages: list[Message] = field(default_factory=list)

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.media_type = Headers(raw=message.get("headers", [])).get("content-type", self.media_type)
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def forward(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


def _replayed(answer: Answer) -> Response:
    if answer.body is None:
        return domain_error_response(not_kept_error(answer))
    return Response(answer.body, status_code=answer.status, headers={REPLAYED: "true"},
                    media_type=answer.media_type)
