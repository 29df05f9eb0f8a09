"""Writers of the same vectors at once: re-adds and ``setRecordVectors`` of the same records
from several requests. FerretDB 1.24 deadlocked on two multi-statement ``update`` commands over
the same documents and then answered nothing: six concurrent re-adds of 50 records with vectors
hung every request (and the service's shutdown) for good."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import live_server

ADD = """mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) {
  created updated unchanged errors { index message } } }"""
SPACE = 'mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "v", dimension: 4}) { name } }'
SET = """mutation($id: ID!, $v: [RecordVectorsInput!]!) { setRecordVectors(datasetId: $id, records: $v) {
  updated errors { index message } } }"""
NEAR = """query($id: ID!, $r: ID!) { similarRecords(datasetId: $id, space: "v", near: {recordId: $r}, first: 100) {
  items { record { externalId } } } }"""
WRITERS = 6
DEADLINE_SECONDS = 60


def test_writers_of_the_same_vectors_at_once_all_finish(settings: Settings, builtin_registry: KindRegistry) -> None:
    with live_server(create_app(settings, builtin_registry)) as url:
        asyncio.run(_same_vectors_at_once(url))


async def _same_vectors_at_once(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=DEADLINE_SECONDS,
                                 headers={"Authorization": f"Bearer {OWNER_KEY}"}) as http:
        gql = GraphQLClient(http, OWNER_KEY)
        dataset_id = await h.sft_dataset(gql)
        await gql(SPACE, {"id": dataset_id})
        records = [{"externalId": f"e{i}", "fields": {"prompt": f"p{i}"}, "vectors": {"v": [1.0, i, 0.5, 2.0]}}
                   for i in range(50)]

        async def post(query: str, variables: dict[str, Any]) -> Any:
            body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
            assert "errors" not in body, body
            return body["data"]

        added = await asyncio.wait_for(asyncio.gather(*(
            post(ADD, {"id": dataset_id, "r": records}) for _ in range(WRITERS))), DEADLINE_SECONDS)
        assert sum(a["addRecords"]["created"] for a in added) == 50
        assert all(a["addRecords"]["errors"] == [] for a in added)
        page = await gql(h.RECORDS, {"id": dataset_id, "first": 100})
        ids = {e["node"]["externalId"]: e["node"]["id"] for e in page["records"]["edges"]}
        assert len(ids) == 50
        vectors = [{"recordId": record_id, "vectors": {"v": [2.0, 1.0, 0.0, 1.0]}} for record_id in ids.values()]
        set_ = await asyncio.wait_for(asyncio.gather(*(
            post(SET, {"id": dataset_id, "v": vectors}) for _ in range(WRITERS))), DEADLINE_SECONDS)
        assert all(s["setRecordVectors"]["errors"] == [] for s in set_)
        near = await gql(NEAR, {"id": dataset_id, "r": ids["e0"]})
        assert len(near["similarRecords"]["items"]) == 49  # every other record, each once
