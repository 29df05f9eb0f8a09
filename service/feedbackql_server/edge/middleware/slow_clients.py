"""Connections that send their request headers slowly are cut off, and connections beyond the
limits are answered in the usual JSON error shape.

uvicorn (0.54) has no header-read timeout: its keep-alive timer is disarmed by the first byte
that arrives, so a client trickling one header byte every few seconds holds a connection (and a
slot of ``limit_concurrency``) for ever. This HTTP protocol, uvicorn's h11 one with a deadline,
closes a connection whose request line and headers are not complete within ``seconds`` of the
connection opening or of the previous response ending. Once the headers are in, the body and
the answer are bounded by the request timeout (``request_timeout.py``); a WebSocket upgrade
leaves the deadline behind with the HTTP protocol.

uvicorn's own ``limit_concurrency`` answered every request with a plain-text 503 once 1,001
sockets were open, and any one client could open them (idle, each held for the header
deadline, then opened again). Here a connection is refused at once when its address already
has ``per_address`` open or the server ``max_connections``: a JSON 503 ``UNAVAILABLE`` is
written and the connection closed, so one address cannot take the slots of everyone else.
A WebSocket leaves this count when it upgrades (``api/live_sessions.py`` limits sockets).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

BUSY = json.dumps({"errors": [{"message": "too many open connections; retry shortly",
                               "extensions": {"code": "UNAVAILABLE"}}]}).encode()
BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                 b"retry-after: 1\r\nconnection: close\r\ncontent-length: "
                 + str(len(BUSY)).encode() + b"\r\n\r\n" + BUSY)

REFUSED_SECONDS = 1.0
"""How long a refused connection waits for its request before it is answered and closed."""


class HeaderDeadlineProtocol(H11Protocol):
    header_timeout_seconds: float = 10.0
    max_connections: int | None = None
    per_address: int | None = None
    open_by_address: ClassVar[Counter[str]] = Counter()
    header_deadline: asyncio.TimerHandle | None = None
    address: str | None = None
    refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if self._over_limits(address):
            self.refused = True  # answered when its request comes (a reply before it may be lost)
            self.header_deadline = self.loop.call_later(REFUSED_SECONDS, self._answer_busy)
            return
        self.address = address
        self.open_by_address[address] += 1
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            self._answer_busy()
            return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole request line and headers arrived
            self._disarm()

    def _answer_busy(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(BUSY_RESPONSE)
            self.transport.close()

    def _over_limits(self, address: str) -> bool:
        over_server = self.max_connections is not None and len(self.connections) > self.max_connections
        over_address = self.per_address is not None and self.open_by_address[address] >= self.per_address
        return over_server or over_address

    def _leave_count(self) -> None:
        if self.address is not None:
            self.open_by_address[self.address] -= 1
            if self.open_by_address[self.address] <= 0:
                del self.open_by_address[self.address]
            self.address = None

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._leave_count()
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request's headers have the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._leave_count()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.header_deadline = self.loop.call_later(self.header_timeout_seconds, self._headers_too_slow)

    def _disarm(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _headers_too_slow(self) -> None:
        self.header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def header_deadline_protocol(seconds: float, max_connections: int | None = None,
                             per_address: int | None = None) -> type[HeaderDeadlineProtocol]:
    """The protocol class to give uvicorn (``http=``), with its deadline and limits (and a
    count of open connections per address of its own)."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {
        "header_timeout_seconds": seconds, "max_connections": max_connections, "per_address": per_address,
        "open_by_address": Counter()})
