"""The per-request context: storage, kinds, the calling user, and DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from bson import ObjectId
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.live_sessions import LiveSessions
from feedbackql_server.domain import identity
from feedbackql_server.domain.queue import QueuePools
from feedbackql_server.errors import Unauthenticated
from feedbackql_server.events import Broker
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.policy import Caller
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage

Doc = dict[str, Any]
K = TypeVar("K")
V = TypeVar("V")


def _by_id(
    load: Callable[[list[ObjectId]], Any],
) -> Callable[[Sequence[ObjectId]], Any]:
    async def batch(ids: Sequence[ObjectId]) -> list[Doc | None]:
        docs = {doc["_id"]: doc for doc in await load(list(ids))}
        return [docs.get(i) for i in ids]

    return batch


def _grouped(
    load: Callable[[list[ObjectId]], Any], key: str
) -> Callable[[Sequence[ObjectId]], Any]:
    async def batch(ids: Sequence[ObjectId]) -> list[list[Doc]]:
        groups: dict[Hashable, list[Doc]] = {i: [] for i in ids}
        for doc in await load(list(ids)):
            groups[doc[key]].append(doc)
        return [groups[i] for i in ids]

    return batch


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose waiters can be cancelled one by one.

    graphql-core cancels the sibling resolvers of a field that failed. A resolver awaiting a
    DataLoader future directly would cancel that future, which other resolvers share, and
    the cancellation then escapes them and kills the whole request (found by the fuzz test).
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


@dataclass
class Loaders:
    users: SharedLoader[ObjectId, Doc | None]
    workspaces: SharedLoader[ObjectId, Doc | None]
    datasets: SharedLoader[ObjectId, Doc | None]
    records: SharedLoader[ObjectId, Doc | None]
    responses: SharedLoader[ObjectId, list[Doc]]

    @classmethod
    def of(cls, storage: Storage) -> Loaders:
        return cls(
            users=SharedLoader(_by_id(storage.users.by_ids)),
            workspaces=SharedLoader(_by_id(storage.workspaces.by_ids)),
            datasets=SharedLoader(_by_id(storage.datasets.by_ids)),
            records=SharedLoader(_by_id(storage.records.by_ids)),
            responses=SharedLoader(_grouped(storage.responses.for_records, "record_id")),
        )


@dataclass
class Context:
    request: HTTPConnection
    storage: Storage
    registry: KindRegistry
    kinds: KindTypes
    settings: Settings
    current_user: Doc | None
    events: Broker
    queue_pools: QueuePools
    sessions: LiveSessions
    connection_params: dict[str, Any] | None = None
    """The ``connection_init`` payload of a websocket (set by strawberry)."""
    loaders: Loaders = field(init=False)
    _caller: Caller | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.loaders = Loaders.of(self.storage)

    @property
    def user(self) -> Doc:
        return self.require_user()

    @property
    def caller(self) -> Caller:
        """The authenticated caller as the policy sees it; ``UNAUTHENTICATED`` without one."""
        if self._caller is None:
            self._caller = Caller.of(self.require_user())
        return self._caller

    def authenticated(self, user: Doc | None) -> None:
        """Set (or, with None, clear) the caller, e.g. after a websocket re-authenticated."""
        self.current_user, self._caller = user, None
        # A socket's loaders live as long as the socket: cached documents would outlive changes.
        self.loaders = Loaders.of(self.storage)

    def join_sessions(self) -> None:
        if self.current_user is not None and isinstance(self.request, WebSocket):
            self.sessions.add(self.current_user["_id"], self.request)

    def leave_sessions(self) -> None:
        if self.current_user is not None and isinstance(self.request, WebSocket):
            self.sessions.remove(self.current_user["_id"], self.request)

    async def reauthenticate(self) -> bool:
        """Check the socket's key again; False (and no caller) when it no longer works."""
        previous = self.current_user
        user = await identity.authenticate(self.storage, self.authorization)
        if previous is not None and (user is None or user["_id"] != previous["_id"]):
            self.leave_sessions()
            self.authenticated(None)
            return False
        self.authenticated(user)
        return user is not None

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` value: the header, or a websocket's ``connection_init``."""
        if isinstance(self.request, WebSocket):
            params = self.connection_params or {}
            value = params.get("Authorization") or params.get("authorization")
            return value if isinstance(value, str) else None
        return self.request.headers.get("authorization")

    def require_user(self) -> Doc:
        """The authenticated caller; ``UNAUTHENTICATED`` when the request had no valid key."""
        if self.current_user is None:
            raise Unauthenticated(
                "send a valid API key as 'Authorization: Bearer <key>'"
            )
        return self.current_user


Info = strawberry.Info[Context, None]
"""What resolvers receive: the request's ``Context`` as ``info.context``."""
