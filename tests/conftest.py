"""Fixtures: one real database server per session (MONGODB_URI, or FerretDB started here),
a fresh database and app per test, and a small GraphQL client."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry, load_registry
from feedbackql_server.settings import Settings

OWNER_KEY = "owner-test-key"


@pytest.fixture(scope="session")
def mongodb_uri(feedbackql_database_uri: str) -> str:
    """MONGODB_URI, or FerretDB started for the session: the server of the testing plugin
    (feedbackql_server.testing), which the plugin tests under tests/plugins use too."""
    return feedbackql_database_uri


@pytest.fixture(scope="session")
def builtin_registry() -> KindRegistry:
    return load_registry(builtin_only=True)


class GraphQLClient:
    """Posts operations to /graphql as one user."""

    def __init__(self, http: httpx.AsyncClient, api_key: str | None) -> None:
        self.http = http
        self.api_key = api_key

    def as_user(self, api_key: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, api_key)

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = await self.http.post("/graphql", json={"query": query, "variables": variables},
                                        headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The data of a successful operation (fails the test on any error)."""
        body = await self.raw(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first error of a failing operation."""
        body = await self.raw(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        error: dict[str, Any] = body["errors"][0]
        return error


@pytest.fixture
async def database_name(mongodb_uri: str) -> AsyncIterator[str]:
    name = f"fqltest_{uuid.uuid4().hex[:12]}"
    yield name
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    await client.drop_database(name)
    await client.close()


@pytest.fixture
def settings(mongodb_uri: str, database_name: str) -> Settings:
    # Rate limiting is off here (tests fire requests faster than any client would);
    # test_hardening switches it on to test it.
    return Settings(mongodb_uri=mongodb_uri, database_name=database_name,
                    owner_api_key=OWNER_KEY, rate_limit_per_second=0)


@contextlib.asynccontextmanager
async def serve(settings: Settings, registry: KindRegistry) -> AsyncIterator[GraphQLClient]:
    """An app started with ``settings``, and a client of it authenticated as the owner."""
    app = create_app(settings, registry)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield GraphQLClient(client, OWNER_KEY)


@pytest.fixture
async def http(settings: Settings, builtin_registry: KindRegistry) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings, builtin_registry) as client:
        yield client.http


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    """A client authenticated as the owner."""
    return GraphQLClient(http, OWNER_KEY)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
