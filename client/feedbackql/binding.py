"""One method body for both clients: bound to a ``Client`` a method blocks and returns its
result; bound to an ``AsyncClient`` it returns the awaitable.

A dataset's type says which client it is bound to (``FeedbackDataset[Client]``, the default, or
``FeedbackDataset[AsyncClient]``), so that a type checker sees each method's real result:
``AddRecordsReport`` from the first, ``Coroutine[..., AddRecordsReport]`` from the second."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from typing_extensions import TypeVar

from feedbackql.client import AsyncClient, Client

T = TypeVar("T")
AnyClient = Client | AsyncClient
C = TypeVar("C", bound=AnyClient, default=Client)
"""The client a dataset is bound to (``Client`` unless the dataset's type says otherwise)."""
Later = Coroutine[Any, Any, T]
"""What a method bound to an ``AsyncClient`` returns: the awaitable of its result."""


def asynchronous(client: AnyClient) -> AsyncClient:
    return client.aio if isinstance(client, Client) else client


def complete(client: AnyClient, coroutine: Coroutine[Any, Any, T]) -> T | Later[T]:
    """The result now (``Client``) or the awaitable (``AsyncClient``)."""
    return client.run(coroutine) if isinstance(client, Client) else coroutine
