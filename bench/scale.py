"""Per-record operations at a small and a large dataset size, side by side in one deployment
(with a second large dataset beside them): p50 of record(id), submitResponse, nextRecords and
records(first: 100) at the first, a middle (by cursor) and the last page, each at LARGE
divided by the same at SMALL; and each large page against the raw driver fetching the same
100 documents by _id (one find_one each, 16 at a time, and one find with $in).

    .venv-test/bin/python -m bench.scale [LARGE]      (default 100000)

Targets (the storage issue): every LARGE/SMALL ratio <= 1.5; page / raw <= 3.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bson import ObjectId

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


async def p50(action: Callable[[int], Awaitable[Any]], samples: int = SAMPLES) -> float:
    times = []
    for i in range(samples):
        start = time.perf_counter()
        await action(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def cursor_at(client: httpx.AsyncClient, dataset_id: str, position: int) -> str | None:
    """The cursor after which the page starting at ``position`` begins (None: the first)."""
    if position == 0:
        return None
    query = """query($id: ID!, $first: Int!, $after: String) { records(datasetId: $id, first: $first,
      after: $after) { pageInfo { endCursor } } }"""
    after = None
    while position > 0:
        step = min(1000, position)
        data = await gql(client, query, {"id": dataset_id, "first": step, "after": after})
        after, position = data["records"]["pageInfo"]["endCursor"], position - step
    return after


async def pages(client: httpx.AsyncClient, dataset_id: str, size: int) -> dict[str, float]:
    out = {}
    for label, position in (("first", 0), ("middle", size // 2), ("last", size - 100)):
        after = await cursor_at(client, dataset_id, position)
        out[f"records(first: 100), {label} page"] = await p50(
            lambda i, after=after: gql(client, PAGE, {"id": dataset_id, "after": after}))
    return out


async def raw_fetches(client: httpx.AsyncClient, settings: Any, dataset_id: str, size: int) -> dict[str, float]:
    collection = client._transport.app.state.storage.db["records"]  # type: ignore[attr-defined]
    after = await cursor_at(client, dataset_id, size // 2)
    ids = [ObjectId(e["node"]["id"]) for e in (await gql(client, PAGE, {"id": dataset_id, "after": after}))
           ["records"]["edges"]]
    gate = asyncio.Semaphore(16)

    async def one(record_id: ObjectId) -> None:
        async with gate:
            await collection.find_one({"_id": record_id})

    return {"raw: 100 x find_one by _id": await p50(lambda i: asyncio.gather(*(one(r) for r in ids))),
            "raw: find _id $in 100 ids": await p50(lambda i: collection.find({"_id": {"$in": ids}}).to_list(),
                                                   samples=1)}


async def measure(client: httpx.AsyncClient, dataset_id: str, size: int) -> dict[str, float]:
    ids = [e["node"]["id"] for e in (await gql(client, PAGE, {"id": dataset_id}))["records"]["edges"]]

    async def submit(i: int) -> None:
        await gql(client, SUBMIT, {"input": {"recordId": ids[i], "status": "SUBMITTED",
                                             "values": [{"question": "preference", "value": RANKING}]}})

    return {
        "record(id)": await p50(lambda i: gql(client, RECORD, {"id": ids[i]})),
        "submitResponse": await p50(submit),
        "nextRecords": await p50(lambda i: gql(client, NEXT, {"id": dataset_id})),
        **await pages(client, dataset_id, size),
    }


async def main(large: int) -> None:
    with database_uri() as uri:
        async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (client, settings):
            started = time.perf_counter()
            small = await filled(client, "small", SMALL)
            big = await filled(client, "large", large)
            await filled(client, "beside", large)
            print(f"ingest of {SMALL + 2 * large} records: {time.perf_counter() - started:.0f} s")
            at_small, at_large = await measure(client, small, SMALL), await measure(client, big, large)
            raw = await raw_fetches(client, settings, big, large)
    print(f"p50 over {SAMPLES} calls; {SMALL} vs {large} records (and another {large} beside)")
    for name in at_small:
        print(f"{name:40} {at_small[name] * 1000:8.1f} ms {at_large[name] * 1000:8.1f} ms"
              f"   ratio {at_large[name] / at_small[name]:6.2f}")
    for name, seconds in raw.items():
        page = at_large["records(first: 100), middle page"]
        print(f"{name:40} {seconds * 1000:8.1f} ms   middle page / this: {page / seconds:6.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
