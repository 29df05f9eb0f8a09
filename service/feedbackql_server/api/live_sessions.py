"""Open WebSocket connections by user, so that revoking a user's access ends them at once.

A socket authenticates once, in ``connection_init``; without this, a rotated key, a deleted
user or a removed member kept receiving events and running operations over a socket opened
before. Revocations in this process close the user's sockets with 4403; every operation a
socket carries also authenticates its key again (``RevocableTransportWS``), which covers
revocations made through another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from bson import ObjectId
from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, SubscribeMessage

from feedbackql_server.api.operation_deadline import is_subscription, timeout_message
from feedbackql_server.rate_limits import RateLimits, key_id, retry_seconds

REVOKED = 4403
REVOKED_REASON = "Forbidden: this API key no longer gives access"
TOO_MANY_SOCKETS = 4429


class LiveSessions:
    def __init__(self) -> None:
        self.sockets: defaultdict[ObjectId, set[WebSocket]] = defaultdict(set)

    def add(self, user_id: ObjectId, socket: WebSocket) -> None:
        self.sockets[user_id].add(socket)

    def count(self, user_id: ObjectId) -> int:
        return len(self.sockets.get(user_id, ()))

    def remove(self, user_id: ObjectId, socket: WebSocket) -> None:
        self.sockets[user_id].discard(socket)
        if not self.sockets[user_id]:
            del self.sockets[user_id]

    async def revoke(self, user_id: ObjectId) -> None:
        """Close every socket of the user (they may reconnect with a key that still works)."""
        for socket in list(self.sockets.pop(user_id, ())):
            with contextlib.suppress(Exception):  # already closing or closed
                await socket.close(code=REVOKED, reason=REVOKED_REASON)


class RevocableTransportWS(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws whose every operation first checks that the key still works and
    takes a token from its key's bucket, the one its HTTP requests take from
    (``rate_limits.py``); a key has at most ``max_sockets_per_key`` sockets open."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """A ``null`` payload is a missing key (4403), as an empty one is, not a malformed
        message (4400)."""
        if message.get("payload") is None:
            message = {"type": "connection_init", "payload": {}}
        await super().handle_connection_init(message)
        user = self.context.current_user
        limit = self.context.settings.max_sockets_per_key
        if self.connection_acknowledged and user is not None and self.context.sessions.count(user["_id"]) > limit:
            await self.websocket.close(code=TOO_MANY_SOCKETS,
                                       reason=f"this API key has {limit} WebSockets open already; close one first")

    @property
    def limits(self) -> RateLimits | None:
        limits: RateLimits | None = getattr(self.context.request.app.state, "rate_limits", None)
        return limits

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self.context.reauthenticate():
            await self.websocket.close(code=REVOKED, reason=REVOKED_REASON)
            return
        limits = self.limits
        if self.connection_acknowledged and limits is not None:
            wait = limits.take(None, key_id(self.context.authorization))
            if wait > 0:
                seconds = retry_seconds(wait)
                await self._refuse(message["id"], f"too many operations for this API key; retry after {seconds} s",
                                   seconds)
                return
        await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, message: str, seconds: int) -> None:
        await self.send_message({"id": operation_id, "type": "error", "payload": [{
            "message": message, "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds}}]})

    async def run_operation(self, operation: Operation[Any, None]) -> None:
        """Queries and mutations have the HTTP request's deadline (``operation_deadline.py``) and
        count among their key's requests running, charged to its time budget (``rate_limits.py``)."""
        settings = self.context.settings
        if is_subscription(operation.query, operation.operation_name, settings.max_tokens):
            await super().run_operation(operation)
            return
        limits = self.limits
        running = limits.running(key_id(self.context.authorization)) if limits else contextlib.nullcontext(0.0)
        with running as wait:
            if wait > 0:
                self.operations.pop(operation.id, None)
                seconds = retry_seconds(wait)
                await self._refuse(operation.id, "this API key has too many operations running, or used its "
                                   f"time budget; retry after {seconds} s", seconds)
                return
            await self._run_with_deadline(operation, settings.request_timeout_seconds)

    async def _run_with_deadline(self, operation: Operation[Any, None], seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await super().run_operation(operation)
        except TimeoutError:
            await operation.send_operation_message(timeout_message(operation.id, seconds))  # type: ignore[arg-type]

    async def shutdown(self) -> None:
        self.context.leave_sessions()
        await super().shutdown()
