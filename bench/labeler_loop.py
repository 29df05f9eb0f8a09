"""The labeler loop (nextRecords, then submitResponse) at several dataset sizes and numbers of
concurrent labelers, each with their own key, a fresh database per run, all in one run on the
same server. Prints p50/p95 latency of a loop iteration and throughput; then throughput at the
largest size over the smallest (per number of labelers) and p95 at the most labelers over the
fewest (per size).

    .venv-test/bin/python -m bench.labeler_loop [SIZES] [LEVELS]    (default 1000 10,50,200)
    .venv-test/bin/python -m bench.labeler_loop 1000,100000 50
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import httpx

from bench.common import comparison_dataset, database_uri, gql, record, service

ITERATIONS = 300
NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = """mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"""
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"""
WORKSPACE = "query($id: ID!) { dataset(id: $id) { workspace { id } } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}


async def level(owner: httpx.AsyncClient, size: int, labelers: int) -> tuple[list[float], float]:
    dataset_id = await comparison_dataset(owner, workspace=f"loop-{labelers}")
    for start in range(0, size, 1000):
        await gql(owner, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, min(size, start + 1000))]})
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


async def main(sizes: list[int], levels: list[int]) -> None:
    figures: dict[tuple[int, int], tuple[float, float]] = {}
    print(f"{ITERATIONS} loop iterations per run")
    with database_uri() as uri:
        for size in sizes:
            for labelers in levels:
                # A fresh database per run, so that runs differ only in size and concurrency;
                # a deadline above the queueing that 200 labelers on 2 cores produce.
                async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (owner, _):
                    latencies, throughput = await level(owner, size, labelers)
                p95 = percentile(latencies, 0.95)
                figures[(size, labelers)] = (throughput, p95)
                print(f"{size:>7} records {labelers:>4} labelers: p50 {percentile(latencies, 0.5) * 1000:7.1f} ms"
                      f"   p95 {p95 * 1000:7.1f} ms   {throughput:6.1f} loops/s")
    for labelers in levels:
        if len(sizes) > 1:
            ratio = figures[(sizes[-1], labelers)][0] / figures[(sizes[0], labelers)][0]
            print(f"throughput at {sizes[-1]} / at {sizes[0]} records, {labelers} labelers: {ratio:.2f}")
    for size in sizes:
        if len(levels) > 1:
            ratio = figures[(size, levels[-1])][1] / figures[(size, levels[0])][1]
            print(f"p95 at {levels[-1]} / p95 at {levels[0]} labelers, {size} records: {ratio:.2f}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    chosen_sizes = [int(n) for n in arguments[0].split(",")] if arguments else [1_000]
    chosen_levels = [int(n) for n in arguments[1].split(",")] if len(arguments) > 1 else [10, 50, 200]
    asyncio.run(main(chosen_sizes, chosen_levels))
