"""Progress counters moved by each write always equal a count of the records."""

from __future__ import annotations

import random
from typing import Any

from bson import ObjectId

from feedbackql_server.domain.datasets import recount
from tests import helpers as h
from tests.conftest import GraphQLClient

PROGRESS = """query($id: ID!) {
  datasetProgress(datasetId: $id) { total pending completed overAnnotation responses { submitted draft discarded } }
  annotatorProgress(datasetId: $id) { username submitted draft discarded available }
  records(datasetId: $id, first: 1) { totalCount } }"""
ANSWER = """mutation($r: ID!, $s: ResponseStatus!) { submitResponse(input: {recordId: $r, status: $s,
  values: [{question: "completion", value: {text: "t"}}]}) { id } }"""


async def test_counters_equal_a_recount_after_any_mix_of_writes(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": 2})
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": "p"}} for i in range(12)])
    records = [e["node"]["id"] for e in (await gql(h.RECORDS, {"id": dataset_id, "first": 12}))["records"]["edges"]]
    workspace = await h.workspace_of(gql, dataset_id)
    labelers = [await h.new_user(gql, f"l{i}", workspaces=[workspace]) for i in range(3)]
    chance = random.Random(7)
    for step in range(60):
        who, record = chance.choice(labelers), chance.choice(records)
        action = chance.random()
        if action < 0.6:
            await who(ANSWER, {"r": record, "s": chance.choice(["SUBMITTED", "SUBMITTED", "DRAFT", "DISCARDED"])})
        elif action < 0.8:
            await who.raw("mutation($r: ID!) { deleteResponse(recordId: $r) }", {"r": record})
        elif action < 0.9 and len(records) > 4:
            records.remove(record)
            await gql("mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }",
                      {"d": dataset_id, "ids": [record]})
        elif step % 20 == 0:
            await gql("mutation($id: ID!, $m: Int!) { updateDataset(id: $id, input: {distribution: {minSubmitted: $m}}) { id } }",
                      {"id": dataset_id, "m": chance.choice([1, 2, 3])})
    moved = await gql(PROGRESS, {"id": dataset_id})
    storage: Any = gql.http._transport.app.state.storage  # type: ignore[attr-defined]
    await recount(storage, await storage.datasets.get(ObjectId(dataset_id)))
    counted = await gql(PROGRESS, {"id": dataset_id})
    assert moved == counted
    assert moved["datasetProgress"]["total"] == moved["records"]["totalCount"] == len(records)
    assert sum(row["submitted"] for row in moved["annotatorProgress"]) == moved["datasetProgress"]["responses"]["submitted"]
    # Each labeler's counters live apart: the dataset document does not grow with its labelers.
    stored = await storage.datasets.get(ObjectId(dataset_id))
    assert "users" not in stored["tally"]
