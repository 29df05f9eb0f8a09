"""ASGI middleware: 429 ``RATE_LIMITED`` when a key or an address is over its limits.

The limits themselves (the token buckets, the running counts, the time budget) are one
per-process ``RateLimits`` (``rate_limits.py``), shared with the WebSocket operations of
``api/live_sessions.py``."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from feedbackql_server.edge.errors import error_response
from feedbackql_server.rate_limits import RateLimits, key_id, retry_seconds

SOCKET_REFUSED = 1013
"""WebSocket close code "try again later"."""


class RateLimit:
    """ASGI middleware: 429 ``RATE_LIMITED`` with ``Retry-After`` when a bucket is empty or the
    key has too many requests running; a WebSocket handshake takes from its address's bucket."""

    def __init__(self, app: ASGIApp, limits: RateLimits, exempt: frozenset[str]) -> None:
        self.app = app
        self.limits = limits
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else None
        if scope["type"] == "websocket":
            wait = self.limits.take(address, None)
            await (self.app(scope, receive, send) if wait == 0 else _refuse_socket(wait, send))
            return
        key = key_id(dict(scope["headers"]).get(b"authorization", b"").decode("latin-1"))
        wait = self.limits.take(address, key)
        if wait > 0:
            await refusal(wait)(scope, receive, send)
            return
        with self.limits.running(key) as wait:
            if wait == 0:
                await self.app(scope, receive, send)
                return
        await busy(wait)(scope, receive, send)


async def _refuse_socket(wait: float, send: Send) -> None:
    """Closes a WebSocket handshake that came too fast (before it is accepted: the client sees
    the handshake refused)."""
    await send({"type": "websocket.close", "code": SOCKET_REFUSED,
                "reason": f"too many new connections; retry after {retry_seconds(wait)} s"})


def refusal(wait: float) -> JSONResponse:
    seconds = retry_seconds(wait)
    return error_response(429, "RATE_LIMITED", f"too many requests; retry after {seconds} s",
                          headers={"Retry-After": str(seconds)}, retryAfter=seconds)


def busy(wait: float) -> JSONResponse:
    seconds = retry_seconds(wait)
    message = f"this API key has too many requests running, or used its time budget; retry after {seconds} s"
    return error_response(429, "RATE_LIMITED", message, headers={"Retry-After": str(seconds)}, retryAfter=seconds)
