"""Run as ``python -m tests.lookup_audit`` (``MONGODB_URI`` set): the service in this process with
a command listener on every client, a short random workload (``tests/workload.py``) and the
vector paths, then, as JSON on the last line, each selector the database was sent after start-up
that no index of ``database/equality_indexes.py`` serves on FerretDB. In its own process: the
listener is registered for every client PyMongo makes (``monitoring.register``)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

from pymongo import monitoring

from feedbackql_server.database.equality_indexes import EQUALITY_KEYS

Doc = dict[str, Any]


def _selectors(event: monitoring.CommandStartedEvent) -> list[Doc]:
    command, name = event.command, event.command_name
    if name == "find":
        return [command.get("filter", {})]
    if name in ("update", "delete"):
        return [statement["q"] for statement in command[f"{name}s"]]
    if name == "findAndModify":
        return [command.get("query", {})]
    return []


def _conditions(selector: Doc) -> set[str]:
    """Keys that are not a plain equality (FerretDB evaluates them after its read)."""
    return {key for key, value in selector.items() if key.startswith("$") or (
        isinstance(value, dict) and any(str(op).startswith("$") for op in value))}


class Unserved(monitoring.CommandListener):
    def __init__(self) -> None:
        self.on = False
        self.found: dict[str, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        collection = event.command.get(event.command_name)
        if not self.on or not isinstance(collection, str):
            return
        for selector in _selectors(event):
            equalities = set(selector) - _conditions(selector)
            if not equalities & set(EQUALITY_KEYS.get(collection, ())):
                shape = {key: "=" if key in equalities else "condition" for key in sorted(selector)}
                self.found.setdefault(f"{collection} {event.command_name} {json.dumps(shape)}", str(selector)[:200])

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def _vectors(gql: Any) -> None:
    from tests.helpers import ADD_RECORDS, sft_dataset

    dataset_id = await sft_dataset(gql)
    await gql('mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "e", dimension: 2}) { name } }',
              {"id": dataset_id})
    added = await gql(ADD_RECORDS, {"id": dataset_id, "records": [
        {"fields": {"prompt": f"p{i}"}, "vectors": {"e": [1.0, i / 10 + 0.1]}} for i in range(30)]})
    assert added["addRecords"]["created"] == 30, added
    page = await gql("query($id: ID!) { records(datasetId: $id, first: 30) { edges { node { id } } } }",
                     {"id": dataset_id})
    ids = [edge["node"]["id"] for edge in page["records"]["edges"]]
    similar = 'query($id: ID!, $near: NearInput!) { similarRecords(datasetId: $id, space: "e", near: $near, first: 5) { items { score } } }'
    await gql(similar, {"id": dataset_id, "near": {"recordId": ids[0]}})
    await gql("""mutation($id: ID!, $r: [RecordVectorsInput!]!) { setRecordVectors(datasetId: $id, records: $r) { updated } }""",
              {"id": dataset_id, "r": [{"recordId": ids[1], "vectors": {"e": [0.5, 0.5]}}]})
    await gql(similar, {"id": dataset_id, "near": {"vector": [1.0, 0.2]}})
    await gql('query($id: ID!) { nearDuplicates(datasetId: $id, space: "e", threshold: 0.9, first: 5) { pairs { score } } }',
              {"id": dataset_id})
    await gql('mutation($id: ID!, $near: ID!) { nextRecords(datasetId: $id, first: 2, near: $near, space: "e") { id } }',
              {"id": dataset_id, "near": ids[2]})
    await gql("mutation($id: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $id, ids: $ids) { deleted } }",
              {"id": dataset_id, "ids": ids[:3]})
    await gql(similar, {"id": dataset_id, "near": {"recordId": ids[4]}})


async def main() -> None:
    import httpx

    from feedbackql_server.app import create_app
    from feedbackql_server.kinds.registry import load_registry
    from feedbackql_server.settings import Settings
    from tests import workload
    from tests.conftest import GraphQLClient

    unserved = Unserved()
    monitoring.register(unserved)
    key = "audit-owner-key"
    settings = Settings(mongodb_uri=os.environ["MONGODB_URI"], database_name=f"audit_{uuid.uuid4().hex[:8]}",
                        owner_api_key=key, rate_limit_per_second=0)
    app = create_app(settings, load_registry(builtin_only=True))
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as http:
        try:
            gql = GraphQLClient(http, key)
            unserved.on = True
            run = workload.Run(seed=11, records=40, labelers=4, seconds=float(os.environ.get("AUDIT_SECONDS", "6")))
            users, workspace = await workload.prepare(run, gql)
            await workload.execute(run, gql, users, workspace)
            await _vectors(gql)
            unserved.on = False
        finally:
            await app.state.storage.db.client.drop_database(settings.database_name)
    print(json.dumps(unserved.found))


if __name__ == "__main__":
    asyncio.run(main())
