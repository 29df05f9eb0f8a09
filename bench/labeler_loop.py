"""The labeler loop (nextRecords, then submitResponse) at 10, 50 and 200 concurrent labelers,
each with their own key, on one dataset per level, in one run on the same server. Prints
p50/p95 latency of a loop iteration, throughput, and p95 at 200 over p95 at 10.

    .venv-test/bin/python -m bench.labeler_loop
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from bench.common import comparison_dataset, database_uri, gql, record, service

LEVELS = (10, 50, 200)
RECORDS, ITERATIONS = 1_000, 300
NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = """mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"""
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"""
WORKSPACE = "query($id: ID!) { dataset(id: $id) { workspace { id } } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}


async def level(owner: httpx.AsyncClient, labelers: int) -> tuple[list[float], float]:
    dataset_id = await comparison_dataset(owner, workspace=f"loop-{labelers}")
    for start in range(0, RECORDS, 500):
        await gql(owner, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, start + 500)]})
    ws = (await gql(owner, WORKSPACE, {"id": dataset_id}))["dataset"]["workspace"]["id"]
    keys = [(await gql(owner, CREATE_USER, {"input": {"username": f"l{labelers}-{i}", "role": "ANNOTATOR",
                                                      "workspaceIds": [ws]}}))["createUser"]["apiKey"]
            for i in range(labelers)]
    latencies: list[float] = []
    remaining = [ITERATIONS]

    async def labeler(key: str) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=owner._transport, base_url="http://bench", headers=headers) as me:
            while remaining[0] > 0:
                remaining[0] -= 1
                start = time.perf_counter()
                batch = (await gql(me, NEXT, {"id": dataset_id}))["nextRecords"]
                if not batch:
                    return
                await gql(me, SUBMIT, {"input": {"recordId": batch[0]["id"], "status": "SUBMITTED",
                                                 "values": [{"question": "preference", "value": RANKING}]}})
                latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(labeler(key) for key in keys))
    return latencies, len(latencies) / (time.perf_counter() - started)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


async def main() -> None:
    p95: dict[int, float] = {}
    print(f"{RECORDS} records per level, {ITERATIONS} loop iterations per level")
    with database_uri() as uri:
        for labelers in LEVELS:
            # A fresh database per level (FerretDB: a fresh SQLite file), so that levels differ
            # only in concurrency; the pool size of `feedbackql serve` on FerretDB; and a deadline
            # above the queueing that 200 labelers on 2 cores produce.
            async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0,
                               mongodb_max_pool_size=4) as (owner, _settings):
                latencies, throughput = await level(owner, labelers)
            p95[labelers] = percentile(latencies, 0.95)
            print(f"{labelers:>4} labelers: p50 {percentile(latencies, 0.5) * 1000:7.1f} ms   "
                  f"p95 {p95[labelers] * 1000:7.1f} ms   {throughput:6.1f} loops/s")
    print(f"p95 at {LEVELS[-1]} / p95 at {LEVELS[0]}: {p95[LEVELS[-1]] / p95[LEVELS[0]]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
