"""Errors answered before GraphQL runs, in the same shape as GraphQL errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Message, Send

from feedbackql_server.errors import CODES, DomainError

HTTP_STATUS = {code: entry.status for code, entry in CODES.items()}
"""The HTTP status of a domain error answered outside GraphQL (from the one list of codes)."""


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   **extensions: Any) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(error: DomainError) -> JSONResponse:
    """A domain error as the HTTP routes outside GraphQL (exports, uploads) answer it."""
    return error_response(HTTP_STATUS.get(error.code, 400), error.code, error.message,
                          **{k: v for k, v in error.extensions.items() if k != "code"})


class StartTracker:
    """Wraps ``send`` and knows whether the response has started (then nothing else may be
    sent in its place). Marked before awaiting: from that moment the start counts."""

    def __init__(self, send: Send) -> None:
        self.inner = send
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.inner(message)
