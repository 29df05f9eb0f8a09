"""Training exports: what making every row before the first byte costs (the export states its
counts in its header, so it spools the rows to a temporary file first; export/spool.py).

On a comparison dataset whose records each have one submitted ranking, it times
``reward_modeling`` over HTTP in JSON Lines and Parquet: time to the first byte, total time,
rows/s, and the peak Python memory of the export (tracemalloc). Run it as

    .venv-test/bin/python -m bench.training_export                       # 10k records
    TRAINING_EXPORT_SIZE=2000 .venv-test/bin/python -m bench.training_export   # quicker
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import tracemalloc
from typing import Any

import httpx

from bench.common import comparison_dataset, database_uri, gql, record, service

SIZE = int(os.environ.get("TRAINING_EXPORT_SIZE", "10000"))
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
IDS = "query($id: ID!, $after: String) { records(datasetId: $id, first: 1000, after: $after) { " \
      "pageInfo { hasNextPage endCursor } edges { node { id } } } }"
SUBMIT = "mutation($i: [ResponseInput!]!) { submitResponses(inputs: $i) { id } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}


async def answered_dataset(client: httpx.AsyncClient) -> str:
    dataset = await comparison_dataset(client)
    for start in range(0, SIZE, 500):
        await gql(client, ADD, {"id": dataset, "r": [record(i) for i in range(start, min(SIZE, start + 500))]})
    ids: list[str] = []
    after = None
    while True:
        page = (await gql(client, IDS, {"id": dataset, "after": after}))["records"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    for start in range(0, len(ids), 100):
        await gql(client, SUBMIT, {"i": [{"recordId": rid, "status": "SUBMITTED",
                                          "values": [{"question": "preference", "value": RANKING}]}
                                         for rid in ids[start:start + 100]]})
    return dataset


async def timed_download(client: httpx.AsyncClient, dataset: str, file_format: str) -> dict[str, Any]:
    tracemalloc.start()
    start = time.perf_counter()
    first_byte = None
    size = 0
    async with client.stream("GET", f"/datasets/{dataset}/training/reward_modeling",
                             params={"question": "preference", "format": file_format}) as response:
        counts = json.loads(response.headers["feedbackql-export-rules"])["counts"]
        async for chunk in response.aiter_bytes():
            first_byte = first_byte or time.perf_counter() - start
            size += len(chunk)
    total = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"format": file_format, "rows": counts["rows"], "first_byte_s": round(first_byte or total, 2),
            "total_s": round(total, 2), "rows_per_s": round(counts["rows"] / total), "bytes": size,
            "peak_python_mb": round(peak / 1e6, 1)}


async def main() -> None:
    with database_uri() as uri:
        async with service(uri) as (client, _settings):
            dataset = await answered_dataset(client)
            for file_format in ("jsonl", "parquet"):
                print(json.dumps({"records": SIZE, **await timed_download(client, dataset, file_format)}))


if __name__ == "__main__":
    asyncio.run(main())
