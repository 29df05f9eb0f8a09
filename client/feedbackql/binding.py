"""One method body for both clients: bound to a ``Client`` a method blocks and returns its
result; bound to an ``AsyncClient`` it returns the awaitable."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from feedbackql.client import AsyncClient, Client

T = TypeVar("T")
AnyClient = Client | AsyncClient


def asynchronous(client: AnyClient) -> AsyncClient:
    return client.aio if isinstance(client, Client) else client


def complete(client: AnyClient, coroutine: Coroutine[Any, Any, T]) -> Any:
    """The result now (``Client``) or the awaitable (``AsyncClient``)."""
    return client.run(coroutine) if isinstance(client, Client) else coroutine
