"""A real uvicorn server on a loopback port, in a thread of its own, and a small
graphql-transport-ws client: what browsers and SDKs talk to."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"
RECEIVE_SECONDS = 10
POLL_SECONDS = 0.5


@contextlib.contextmanager
def live_server(app: Starlette) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port); yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           ws="websockets-sansio", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Subscriber:
    """One graphql-transport-ws connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.next_id = 0

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self.next_id += 1
        operation_id = str(self.next_id)
        await self.send({"id": operation_id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables or {}}})
        return operation_id

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message that is not a ping (waiting at most RECEIVE_SECONDS)."""
        while True:
            async with asyncio.timeout(RECEIVE_SECONDS):
                message: dict[str, Any] = json.loads(await self.connection.recv())
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def poll(self) -> dict[str, Any] | None:
        """The next message within POLL_SECONDS, else None."""
        try:
            async with asyncio.timeout(POLL_SECONDS):
                return await self.receive()
        except TimeoutError:
            return None


async def until_live(subscribers: list[Subscriber], trigger: Callable[[], Awaitable[Any]]) -> None:
    """Fire ``trigger`` until every subscriber has received something: a subscription is
    registered asynchronously on the server, and events before that are not delivered."""
    pending = list(subscribers)
    for _ in range(40):
        await trigger()
        pending = [s for s in pending if await s.poll() is None]
        if not pending:
            return
    raise AssertionError("the subscriptions never received an event")


@contextlib.asynccontextmanager
async def subscriber(base_url: str, api_key: str | None) -> AsyncIterator[Subscriber]:
    """A connection that has been acknowledged (or refused: then ``connection_init`` fails)."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        client = Subscriber(connection)
        payload = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        await client.send({"type": "connection_init", "payload": payload})
        acknowledged = await client.receive()
        assert acknowledged["type"] == "connection_ack", acknowledged
        yield client
