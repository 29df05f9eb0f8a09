"""Per-record operations at a small and a large dataset size, side by side in one deployment
(with a second large dataset beside them): p50 of record(id), submitResponse, nextRecords and
records(first: 100) at the first page, each at LARGE divided by the same at SMALL.

    .venv-test/bin/python -m bench.scale [LARGE]      (default 100000)

Target (the storage issue): every ratio <= 1.5.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.common import comparison_dataset, database_uri, gql, record, service

SMALL, SAMPLES = 1_000, 30
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
PAGE = """query($id: ID!, $after: String) { records(datasetId: $id, first: 100, after: $after) {
  pageInfo { endCursor } edges { node { id fields } } } }"""
RECORD = "query($id: ID!) { record(id: $id) { id fields } }"
NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = "mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}


async def filled(client: httpx.AsyncClient, name: str, size: int) -> str:
    dataset_id = await comparison_dataset(client, workspace=name)
    for start in range(0, size, 1000):
        await gql(client, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, min(size, start + 1000))]})
    return dataset_id


async def p50(action: Callable[[int], Awaitable[Any]]) -> float:
    times = []
    for i in range(SAMPLES):
        start = time.perf_counter()
        await action(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def measure(client: httpx.AsyncClient, dataset_id: str) -> dict[str, float]:
    ids = [e["node"]["id"] for e in (await gql(client, PAGE, {"id": dataset_id}))["records"]["edges"]]

    async def submit(i: int) -> None:
        await gql(client, SUBMIT, {"input": {"recordId": ids[i], "status": "SUBMITTED",
                                             "values": [{"question": "preference", "value": RANKING}]}})

    return {
        "record(id)": await p50(lambda i: gql(client, RECORD, {"id": ids[i]})),
        "submitResponse": await p50(submit),
        "nextRecords": await p50(lambda i: gql(client, NEXT, {"id": dataset_id})),
        "records(first: 100), first page": await p50(lambda i: gql(client, PAGE, {"id": dataset_id})),
    }


async def main(large: int) -> None:
    with database_uri() as uri:
        async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (client, _settings):
            small = await filled(client, "small", SMALL)
            big = await filled(client, "large", large)
            await filled(client, "beside", large)
            at_small, at_large = await measure(client, small), await measure(client, big)
    print(f"p50 over {SAMPLES} calls; {SMALL} vs {large} records (and another {large} beside)")
    for name in at_small:
        print(f"{name:34} {at_small[name] * 1000:8.1f} ms {at_large[name] * 1000:8.1f} ms"
              f"   ratio {at_large[name] / at_small[name]:6.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
