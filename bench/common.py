"""Shared set-up for benchmarks: a real server (MONGODB_URI or a FerretDB started here),
the app in-process behind httpx, and a comparison dataset."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from feedbackql_server.app import create_app
from feedbackql_server.database.local import local_database
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings

KEY = "bench-key"
TEXT = {"text": {}}


@contextlib.contextmanager
def database_uri() -> Iterator[str]:
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    with tempfile.TemporaryDirectory() as folder, local_database(Path(folder)) as uri:
        yield uri


@contextlib.asynccontextmanager
async def service(uri: str, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = Settings(mongodb_uri=uri, database_name=f"bench_{uuid.uuid4().hex[:8]}",
                        owner_api_key=KEY, **overrides)
    app = create_app(settings, load_registry(builtin_only=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     headers={"Authorization": f"Bearer {KEY}"}) as client:
            try:
                yield client, settings
            finally:
                await app.state.storage.db.client.drop_database(settings.database_name)


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def comparison_dataset(client: httpx.AsyncClient, workspace: str = "bench", name: str = "comparison",
                             metadata: list[dict[str, Any]] | None = None) -> str:
    """A published dataset with a prompt, two responses and a ranking question (and ``metadata``
    properties, if given)."""
    create_ws = "mutation($n: String!) { createWorkspace(name: $n) { id } }"
    ws = (await gql(client, create_ws, {"n": workspace}))["createWorkspace"]["id"]
    create = """mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }"""
    dataset = (await gql(client, create, {"input": {
        "workspaceId": ws, "name": name, "metadataProperties": metadata or [],
        "fields": [{"name": "prompt", "settings": TEXT}, {"name": "response-1", "settings": TEXT},
                   {"name": "response-2", "settings": TEXT}],
        "questions": [{"name": "preference", "settings": {"ranking": {"options": [
            {"value": "response-1", "text": "1"}, {"value": "response-2", "text": "2"}]}}}],
    }}))["createDataset"]["id"]
    await gql(client, "mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": dataset})
    return str(dataset)


def record(i: int) -> dict[str, Any]:
    return {
        "externalId": f"rec-{i}",
        "fields": {"prompt": f"Prompt number {i}: explain something.",
                   "response-1": f"A first answer to {i}. " * 8,
                   "response-2": f"A second answer to {i}. " * 8},
        "metadata": {"source": "synthetic", "length": i % 100},
        "suggestions": [{"question": "preference", "score": 0.7, "agent": "model-x", "value": {
            "ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}],
    }


async def timed(action: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start
