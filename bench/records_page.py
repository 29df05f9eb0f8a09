"""`records(first: 1000)` through GraphQL versus a raw `find` + JSON encoding of the same
page, on the same server in one run. Target: GraphQL time <= 3x the raw time.

    .venv/bin/python -m bench.records_page
"""

from __future__ import annotations

import asyncio
import json
import statistics
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
                docs = await collection.find({"dataset_id": ObjectId(dataset_id)}, {"search_text": 0}) \
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


if __name__ == "__main__":
    asyncio.run(main())
