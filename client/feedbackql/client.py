"""``AsyncClient`` and its blocking twin ``Client``: the same methods, one implementation.

``Client`` runs the asynchronous client on an event loop in a background thread, so it also
works where a loop is already running (a Jupyter notebook).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from feedbackql import operations as ops
from feedbackql.errors import NotFoundError
from feedbackql.transport import AsyncTransport

T = TypeVar("T")


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: str  # "owner" | "admin" | "annotator"


@dataclass(frozen=True)
class CreatedUser:
    user: User
    api_key: str  # shown once by the server: keep it


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset the key can see, with its progress from the service's counters."""

    id: str
    name: str
    workspace: str
    status: str  # "draft" | "ready"
    total: int
    completed: int
    submitted: int  # submitted responses


def _summaries(data: dict[str, Any]) -> list[DatasetSummary]:
    return [DatasetSummary(d["id"], d["name"], w["name"], d["status"].lower(), d["progress"]["total"],
                           d["progress"]["completed"], d["progress"]["responses"]["submitted"])
            for w in data["workspaces"] for d in w["datasets"]]


def _user(data: dict[str, Any]) -> User:
    return User(data["id"], data["username"], data["role"].lower())


class AsyncClient:
    def __init__(self, url: str, api_key: str, *, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 0.5, http: httpx.AsyncClient | None = None) -> None:
        self.transport = AsyncTransport(url, api_key, timeout=timeout, max_retries=max_retries,
                                        backoff=backoff, http=http)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Run any GraphQL operation; errors become ``feedbackql`` exceptions."""
        return await self.transport.execute(query, variables)

    async def me(self) -> User:
        return _user((await self.execute(ops.ME))["me"])

    async def users(self) -> list[User]:
        return [_user(u) for u in (await self.execute(ops.USERS))["users"]]

    async def workspaces(self) -> list[Workspace]:
        return [Workspace(w["id"], w["name"]) for w in (await self.execute(ops.WORKSPACES))["workspaces"]]

    async def workspace(self, name: str) -> Workspace:
        for workspace in await self.workspaces():
            if workspace.name == name:
                return workspace
        raise NotFoundError(f"no workspace named {name!r} that you can see")

    async def datasets(self) -> list[DatasetSummary]:
        """Every dataset of every workspace the key can see, in one request."""
        return _summaries(await self.execute(ops.DATASETS_OVERVIEW))

    async def create_workspace(self, name: str) -> Workspace:
        data = (await self.execute(ops.CREATE_WORKSPACE, {"name": name}))["createWorkspace"]
        return Workspace(data["id"], data["name"])

    async def create_user(self, username: str, role: str = "annotator",
                          workspaces: Sequence[str] = ()) -> CreatedUser:
        """``workspaces`` are names or ids."""
        ids = [await self._workspace_id(w) for w in workspaces]
        data = (await self.execute(ops.CREATE_USER, {"input": {
            "username": username, "role": role.upper(), "workspaceIds": ids}}))["createUser"]
        return CreatedUser(_user(data["user"]), data["apiKey"])

    async def add_workspace_member(self, workspace: str, user: str) -> User:
        """Let ``user`` (a username or id) work in ``workspace`` (a name or id)."""
        workspace_id = await self._workspace_id(workspace)
        for known in await self.users():
            if user in (known.username, known.id):
                data = await self.execute(ops.ADD_MEMBER, {"ws": workspace_id, "user": known.id})
                return _user(data["addWorkspaceMember"])
        raise NotFoundError(f"no user {user!r} that you can see")

    async def _workspace_id(self, name_or_id: str) -> str:
        for workspace in await self.workspaces():
            if name_or_id in (workspace.name, workspace.id):
                return workspace.id
        raise NotFoundError(f"no workspace {name_or_id!r} that you can see")

    def download(self, path: str, params: dict[str, Any]) -> AsyncIterator[bytes]:
        """The body of a file the service streams (``/datasets/{id}/export`` and
        ``/datasets/{id}/training/{task}``), chunk by chunk."""
        return self.transport.stream(path, params)

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Client:
    """The blocking client: ``fb.Client(url, api_key=...)``."""

    def __init__(self, url: str, api_key: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="feedbackql")
        self._thread.start()
        self.aio: AsyncClient = self.run(_make_async(url, api_key, options))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of the asynchronous client to completion."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        return self.run(self.aio.execute(query, variables))

    def me(self) -> User:
        return self.run(self.aio.me())

    def users(self) -> list[User]:
        return self.run(self.aio.users())

    def workspaces(self) -> list[Workspace]:
        return self.run(self.aio.workspaces())

    def workspace(self, name: str) -> Workspace:
        return self.run(self.aio.workspace(name))

    def datasets(self) -> list[DatasetSummary]:
        return self.run(self.aio.datasets())

    def create_workspace(self, name: str) -> Workspace:
        return self.run(self.aio.create_workspace(name))

    def create_user(self, username: str, role: str = "annotator", workspaces: Sequence[str] = ()) -> CreatedUser:
        return self.run(self.aio.create_user(username, role, workspaces))

    def add_workspace_member(self, workspace: str, user: str) -> User:
        return self.run(self.aio.add_workspace_member(workspace, user))

    def download(self, path: str, params: dict[str, Any]) -> Iterator[bytes]:
        """As ``AsyncClient.download``, chunk by chunk as they arrive."""
        chunks = self.aio.download(path, params)
        while True:
            try:
                yield self.run(_next_chunk(chunks))
            except StopAsyncIteration:
                return

    def close(self) -> None:
        if self._loop.is_running():
            self.run(_close(self.aio))
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _close(aio: AsyncClient) -> None:
    """Close ``aio`` after cancelling what still runs on its loop: a call interrupted by Ctrl-C
    goes on in the loop's thread, and closing the loop under it printed "Task was destroyed but
    it is pending!"."""
    running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    await aio.close()


async def _next_chunk(chunks: AsyncIterator[bytes]) -> bytes:
    return await anext(chunks)


async def _make_async(url: str, api_key: str, options: dict[str, Any]) -> AsyncClient:
    return AsyncClient(url, api_key, **options)  # created on the loop that will use it
