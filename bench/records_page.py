"""`records(first: 1000)` through GraphQL versus a raw `find` + JSON encoding of the same
page, on the same server in one run. Target: GraphQL time <= 3x the raw time.

    .venv/bin/python -m bench.records_page

``sorts [SIZE]`` (default 100,000) times instead a first page of 50 sorted by a metadata
property and by a suggestion score, each way, against the insertion-order page, in a dataset
of ``max_scan_records`` (2,000) records (served) and one of SIZE (refused as QUERY_TOO_COSTLY:
the time of the refusal), and then once the same sorted page at SIZE with the limit lifted,
to show what the refusal avoids:

    .venv/bin/python -m bench.records_page sorts 100000
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from bench.common import comparison_dataset, database_uri, gql, record, service, timed

RECORDS, PAGE, ROUNDS = 5_000, 1_000, 7
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
PAGE_QUERY = """query($id: ID!, $first: Int!) { records(datasetId: $id, first: $first) {
  pageInfo { hasNextPage endCursor }
  edges { cursor node { id externalId fields metadata status
    suggestions { question score agent value { ... on RankingValue { ranking { value rank } } } } } } } }"""


async def main() -> None:
    with database_uri() as uri:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
        async with service(uri) as (client, settings):
            dataset_id = await comparison_dataset(client)
            for start in range(0, RECORDS, 1000):
                await gql(client, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, start + 1000)]})
            collection = mongo[settings.database_name]["records"]

            async def through_graphql() -> None:
                data = await gql(client, PAGE_QUERY, {"id": dataset_id, "first": PAGE})
                assert len(data["records"]["edges"]) == PAGE

            async def raw_find_and_encode() -> None:
                docs = await collection.find({"dataset_id": ObjectId(dataset_id)}, {"search_tokens": 0}) \
                    .sort("_id", 1).limit(PAGE).to_list()
                assert len(docs) == PAGE
                json.dumps(docs, default=str)

            graphql_times, raw_times = [], []
            for _ in range(ROUNDS):
                graphql_times.append(await timed(through_graphql))
                raw_times.append(await timed(raw_find_and_encode))
        await mongo.close()
    graphql_s, raw_s = statistics.median(graphql_times), statistics.median(raw_times)
    print(f"records(first: {PAGE}) via GraphQL: {graphql_s * 1000:7.1f} ms (median of {ROUNDS})")
    print(f"raw find + json.dumps          : {raw_s * 1000:7.1f} ms (median of {ROUNDS})")
    print(f"ratio GraphQL / raw: {graphql_s / raw_s:.2f}  (target <= 3)")


SORTED_QUERY = """query($id: ID!, $sort: RecordSort) { records(datasetId: $id, first: 50, sort: $sort) {
  edges { node { id externalId metadata } } } }"""
SORTS: dict[str, dict[str, Any] | None] = {
    "insertion order": None,
    "metadata, ascending": {"field": "METADATA", "name": "length"},
    "metadata, descending": {"field": "METADATA", "name": "length", "direction": "DESC"},
    "suggestion score, descending": {"field": "SUGGESTION_SCORE", "name": "preference", "direction": "DESC"},
}


def sortable_record(i: int) -> dict[str, Any]:
    """``record(i)`` with a score that varies (the shared one is 0.7 everywhere)."""
    doc = record(i)
    doc["suggestions"][0]["score"] = ((i * 7919) % 1000) / 1000
    return doc


UPDATE = "mutation($id: ID!, $input: UpdateDatasetInput!) { updateDataset(id: $id, input: $input) { id } }"


async def sortable_dataset(client: Any, size: int, workspace: str) -> str:
    dataset_id = await comparison_dataset(client, workspace)
    await gql(client, UPDATE, {"id": dataset_id, "input": {
        "metadataProperties": [{"name": "length", "kind": "INTEGER"}]}})
    for start in range(0, size, 1000):
        batch = [sortable_record(i) for i in range(start, min(size, start + 1000))]
        await gql(client, ADD, {"id": dataset_id, "r": batch})
    return dataset_id


async def sorted_page(client: Any, dataset_id: str, sort: dict[str, Any] | None) -> str:
    """'ok', or the error code the service answered with."""
    variables = {"id": dataset_id, "sort": sort}
    body = (await client.post("/graphql", json={"query": SORTED_QUERY, "variables": variables})).json()
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    assert len(body["data"]["records"]["edges"]) == 50
    return "ok"


async def sorts(size: int) -> None:
    with database_uri() as uri:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
        async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (client, settings):
            small = await sortable_dataset(client, settings.max_scan_records, "small")
            large = await sortable_dataset(client, size, "large")
            for dataset_id, records in ((small, settings.max_scan_records), (large, size)):
                for name, sort in SORTS.items():
                    await _time_sort(client, dataset_id, records, name, sort)
            # What a refusal avoids: the query a served sort makes (storage/records.py), made directly.
            collection = mongo[settings.database_name]["records"]
            seconds = await timed(lambda: collection.find({"dataset_id": ObjectId(large)}, {"search_tokens": 0})
                                  .sort([("metadata.length", -1), ("_id", -1)]).limit(51).to_list())
            print(f"{size:>7} records, the same metadata sort made directly: {seconds * 1000:8.1f} ms (once)")
        await mongo.close()


async def _time_sort(client: Any, dataset_id: str, records: int, name: str, sort: dict[str, Any] | None) -> None:
    outcomes: list[str] = []

    async def page() -> None:
        outcomes.append(await sorted_page(client, dataset_id, sort))

    times = [await timed(page) for _ in range(ROUNDS)]
    print(f"{records:>7} records, {name:<30}: {statistics.median(times) * 1000:8.1f} ms "
          f"(median of {ROUNDS}) -> {outcomes[0]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["sorts"]:
        asyncio.run(sorts(int(sys.argv[2]) if len(sys.argv) > 2 else 100_000))
    else:
        asyncio.run(main())
