"""A synchronous GraphQL client of a FeedbackQL app started in-process (no network, no thread
of the caller's event loop), so that plugin tests need no async test runner."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from typing import Any

from starlette.testclient import TestClient

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings

OWNER_KEY = "feedbackql-testing-owner"


class GraphQLFailure(AssertionError):
    """An operation that was expected to succeed returned errors (or the other way round)."""


class FeedbackQLClient:
    """Posts operations to ``/graphql`` as one user; helpers for the usual set-up steps."""

    def __init__(self, http: TestClient, api_key: str) -> None:
        self.http = http
        self.api_key = api_key

    def as_user(self, api_key: str) -> FeedbackQLClient:
        return FeedbackQLClient(self.http, api_key)

    def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables},
                                  headers={"Authorization": f"Bearer {self.api_key}"})
        if response.status_code != 200:
            raise GraphQLFailure(f"HTTP {response.status_code}: {response.text}")
        body: dict[str, Any] = response.json()
        return body

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The data of an operation that must succeed."""
        body = self.raw(query, variables)
        if body.get("errors"):
            raise GraphQLFailure(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first error of an operation that must fail (``error["extensions"]["code"]``)."""
        body = self.raw(query, variables)
        if not body.get("errors"):
            raise GraphQLFailure(f"expected an error, got {body}")
        error: dict[str, Any] = body["errors"][0]
        return error

    def workspace(self, name: str | None = None) -> str:
        """A new workspace's id (default name: a new unique one)."""
        name = name or f"workspace-{secrets.token_hex(4)}"
        data = self("mutation($n: String!) { createWorkspace(name: $n) { id } }", {"n": name})
        return str(data["createWorkspace"]["id"])

    def dataset(self, workspace_id: str, *, fields: Sequence[dict[str, Any]],
                questions: Sequence[dict[str, Any]] = (), name: str = "plugin-test", publish: bool = True) -> str:
        """A dataset's id; ``fields``/``questions`` as in ``CreateDatasetInput``."""
        spec = {"workspaceId": workspace_id, "name": name, "fields": list(fields), "questions": list(questions)}
        created = self("mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }", {"i": spec})
        dataset_id = str(created["createDataset"]["id"])
        if publish:
            self("mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": dataset_id})
        return dataset_id

    def add_records(self, dataset_id: str, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """``{created updated errors { index code message }}`` of ``addRecords``."""
        data = self("""mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) {
            created updated errors { index code message } } }""", {"id": dataset_id, "r": list(records)})
        result: dict[str, Any] = data["addRecords"]
        return result

    def records(self, dataset_id: str) -> list[dict[str, Any]]:
        """The first 1,000 records: ``{id externalId fields suggestions { question json }}``."""
        data = self("""query($id: ID!) { records(datasetId: $id, first: 1000) { edges { node {
            id externalId fields suggestions { question json } } } } }""", {"id": dataset_id})
        return [edge["node"] for edge in data["records"]["edges"]]

    def annotator(self, username: str, workspace_id: str) -> FeedbackQLClient:
        """A client of a new annotator of the workspace."""
        data = self("""mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey } }""",
                    {"i": {"username": username, "role": "ANNOTATOR", "workspaceIds": [workspace_id]}})
        return self.as_user(data["createUser"]["apiKey"])


@contextlib.contextmanager
def serve(registry: KindRegistry, mongodb_uri: str, database_name: str | None = None,
          **settings: Any) -> Iterator[FeedbackQLClient]:
    """The app with ``registry`` on ``database_name`` (default: a new one, dropped afterwards),
    and a client of it authenticated as the owner."""
    name = database_name or f"fqlplugin_{secrets.token_hex(6)}"
    config = Settings(mongodb_uri=mongodb_uri, database_name=name, owner_api_key=OWNER_KEY,
                      rate_limit_per_second=0, **settings)
    app = create_app(config, registry)
    with TestClient(app) as http:
        try:
            yield FeedbackQLClient(http, OWNER_KEY)
        finally:
            if database_name is None:
                _drop(http, app.state.storage.db.client, name)


def _drop(http: TestClient, client: Any, name: str) -> None:
    portal = http.portal
    if portal is not None:
        portal.call(client.drop_database, name)
