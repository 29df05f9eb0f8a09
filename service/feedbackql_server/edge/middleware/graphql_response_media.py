"""GraphQL over HTTP's ``application/graphql-response+json``: status codes that mean something.

A client that accepts that media type (and prefers it to ``application/json``) gets it, and
then a request error — the document could not be parsed or validated, a variable could not
be coerced, a limit refused it before execution — answers ``400`` without a ``data`` entry,
instead of ``200`` with ``data: null`` (the spec's rules for that media type). An operation
that started executing stays ``200``. Answers that already carry their own status (429, 413,
503, 401) keep it. Clients asking for ``application/json`` see no change.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MEDIA_TYPE = "application/graphql-response+json"


def prefers_graphql_response(accept: str) -> bool:
    """True when ``accept`` ranks graphql-response+json at least as high as plain JSON."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[media.lower()] = max(quality, weights.get(media.lower(), 0.0))
    wanted = weights.get(MEDIA_TYPE, 0.0)
    return wanted > 0 and wanted >= max(weights.get("application/json", 0.0), weights.get("*/*", 0.0))


REQUEST_ERRORS = frozenset({"GRAPHQL_VALIDATION", "QUERY_TOO_COSTLY", "PAYLOAD_TOO_LARGE"})
"""Codes given only before execution starts (see api/errors.py, api/cost.py, api/variable_limits.py)."""


def request_error(document: object) -> bool:
    """True for an answer to a request that never reached execution."""
    if not isinstance(document, dict) or document.get("data") is not None or not document.get("errors"):
        return False
    codes = {(error.get("extensions") or {}).get("code") for error in document["errors"] if isinstance(error, dict)}
    return bool(codes) and codes <= REQUEST_ERRORS


NULL_DATA = re.compile(rb'^\s*\{\s*"data"\s*:\s*null\s*,')
"""How a request error starts; anything else is passed on without being parsed."""


def rewrite(body: bytes, status: int) -> tuple[bytes, int]:
    """The spec's form of an answer: request errors are 400 without ``data``."""
    if status != 200 or not NULL_DATA.match(body):
        return body, status
    try:
        document = json.loads(body)
    except ValueError:
        return body, status
    if not request_error(document):
        return body, status
    document.pop("data", None)
    return json.dumps(document, separators=(",", ":")).encode(), 400


class GraphQLResponseMedia:
    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST" \
                or not prefers_graphql_response(Headers(scope=scope).get("accept", "")):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body, status = b"".join(chunks), start["status"]
            headers = MutableHeaders(raw=list(start["headers"]))
            if headers.get("content-type", "").startswith("application/json"):
                body, status = rewrite(body, status)
                headers["content-type"] = MEDIA_TYPE
                headers["content-length"] = str(len(body))
                start = {**start, "status": status, "headers": headers.raw}
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
