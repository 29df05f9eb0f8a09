"""The labeler loop (nextRecords, then submitResponse) at several dataset sizes and numbers of
concurrent labelers, each with their own key, a fresh database per run, all in one run on the
same server. Prints p50/p95 latency of a loop iteration and throughput; then throughput at the
largest size over the smallest (per number of labelers) and p95 at the most labelers over the
fewest (per size).

    .venv-test/bin/python -m bench.labeler_loop [SIZES] [LEVELS]    (default 1000 10,50,200)
    .venv-test/bin/python -m bench.labeler_loop 1000,100000 50
    .venv-test/bin/python -m bench.labeler_loop 1000 10,200 --think-seconds 20 --iterations 100

With no think time (the default) every labeler asks for the next record the moment the last
one is answered, so once a few labelers saturate the machine, a loop's latency is queueing:
by Little's law the mean latency is labelers / throughput, and p95 at 200 labelers over p95
at 10 is about 20 x (throughput at 10 / throughput at 200), whatever the service does.
``--think-seconds T`` models people: each labeler pauses a random time of mean T (exponential)
after each answer, first start spread over T, and the latency measured is the loop's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time

import httpx

from bench.common import comparison_dataset, database_uri, gql, record, service

NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = """mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"""
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"""
WORKSPACE = "query($id: ID!) { dataset(id: $id) { workspace { id } } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}


async def level(owner: httpx.AsyncClient, size: int, labelers: int, iterations: int = 300,
                think_seconds: float = 0.0) -> tuple[list[float], float]:
    dataset_id = await comparison_dataset(owner, workspace=f"loop-{labelers}")
    for start in range(0, size, 1000):
        await gql(owner, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, min(size, start + 1000))]})
    ws = (await gql(owner, WORKSPACE, {"id": dataset_id}))["dataset"]["workspace"]["id"]
    keys = [(await gql(owner, CREATE_USER, {"input": {"username": f"l{labelers}-{i}", "role": "ANNOTATOR",
                                                      "workspaceIds": [ws]}}))["createUser"]["apiKey"]
            for i in range(labelers)]
    latencies: list[float] = []
    remaining = [iterations]
    thinker = random.Random(labelers)
    done = asyncio.Event()  # ends every pause once the last loop is done

    async def think(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), seconds)

    async def answer_one(me: httpx.AsyncClient) -> bool:
        batch = (await gql(me, NEXT, {"id": dataset_id}))["nextRecords"]
        if batch:
            await gql(me, SUBMIT, {"input": {"recordId": batch[0]["id"], "status": "SUBMITTED",
                                             "values": [{"question": "preference", "value": RANKING}]}})
        return bool(batch)

    async def labeler(key: str, warmed: asyncio.Barrier) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=owner._transport, base_url="http://bench", headers=headers) as me:
            # Each labeler's first loop is not measured: a run measures labelers at work, not
            # 200 first requests arriving at once.
            answered = await answer_one(me)
            await warmed.wait()
            if not answered:
                return
            if think_seconds:
                await think(thinker.uniform(0, think_seconds))
            while remaining[0] > 0:
                remaining[0] -= 1
                start = time.perf_counter()
                if not await answer_one(me):
                    return
                latencies.append(time.perf_counter() - start)
                if len(latencies) == iterations:
                    done.set()
                elif think_seconds:
                    await think(thinker.expovariate(1 / think_seconds))

    barrier = asyncio.Barrier(labelers + 1)
    running = [asyncio.ensure_future(labeler(key, barrier)) for key in keys]
    await barrier.wait()
    started = time.perf_counter()
    await asyncio.gather(*running)
    return latencies, len(latencies) / (time.perf_counter() - started)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


async def main(sizes: list[int], levels: list[int], iterations: int, think_seconds: float) -> None:
    figures: dict[tuple[int, int], tuple[float, float]] = {}
    print(f"{iterations} loop iterations per run, think time {think_seconds:g} s (mean)")
    with database_uri() as uri:
        for size in sizes:
            for labelers in levels:
                # A fresh database per run, so that runs differ only in size and concurrency;
                # a deadline above the queueing that 200 labelers on 2 cores produce.
                async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (owner, _):
                    latencies, throughput = await level(owner, size, labelers, iterations, think_seconds)
                p95 = percentile(latencies, 0.95)
                figures[(size, labelers)] = (throughput, p95)
                print(f"{size:>7} records {labelers:>4} labelers: p50 {percentile(latencies, 0.5) * 1000:7.1f} ms"
                      f"   p95 {p95 * 1000:7.1f} ms   {throughput:6.1f} loops/s"
                      f"   (mean {statistics.mean(latencies) * 1000:7.1f} ms)")
    for labelers in levels:
        if len(sizes) > 1:
            ratio = figures[(sizes[-1], labelers)][0] / figures[(sizes[0], labelers)][0]
            print(f"throughput at {sizes[-1]} / at {sizes[0]} records, {labelers} labelers: {ratio:.2f}")
    for size in sizes:
        if len(levels) > 1:
            ratio = figures[(size, levels[-1])][1] / figures[(size, levels[0])][1]
            print(f"p95 at {levels[-1]} / p95 at {levels[0]} labelers, {size} records: {ratio:.2f}")


def numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="?", type=numbers, default=[1_000])
    parser.add_argument("levels", nargs="?", type=numbers, default=[10, 50, 200])
    parser.add_argument("--iterations", type=int, default=300, help="loops per run, over all labelers")
    parser.add_argument("--think-seconds", type=float, default=0.0, help="mean pause after each answer")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sizes, arguments.levels, arguments.iterations, arguments.think_seconds))
