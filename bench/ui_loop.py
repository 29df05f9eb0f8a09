"""The annotation loop through the browser against the same two GraphQL calls made directly.

A real server (uvicorn on loopback) holds a comparison dataset of SIZE records (default
100,000). One labeler submits in the labeling UI (Debian's Chromium driven by
``bench/ui_loop.mjs``): the time from Ctrl+Enter to the next record on screen, measured in the
page. Another labeler makes the UI's own two calls directly over HTTP — ``submitResponse``
then ``nextRecords``, with the same documents — and the same time is taken. Direct loops run
before and after the browser's, and their median is the baseline. Prints both, and the ratio
(target <= 1.5).

    .venv-test/bin/python -m bench.ui_loop [SIZE] [LOOPS]      (default 100000 40)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient

from bench.common import KEY, comparison_dataset, database_uri, gql, record
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests.live import live_server

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"
WORKSPACE = "query($id: ID!) { dataset(id: $id) { workspace { id } } }"
# The documents the UI sends (ui/src/ops.ts), so that both sides do the same work.
RECORD = """id externalId fields metadata status myLeaseExpiresAt
  suggestions { question json score agent }
  responses { id status version user { id } values { question json } }"""
NEXT = f"mutation Next($id: ID!, $first: Int!) {{ nextRecords(datasetId: $id, first: $first) {{ {RECORD} }} }}"
SUBMIT = "mutation Submit($input: ResponseInput!) { submitResponse(input: $input) { id status version } }"
ACCEPT = "application/graphql-response+json, application/json;q=0.9"  # as the UI sends
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}


async def ingest(client: httpx.AsyncClient, size: int) -> str:
    dataset_id = await comparison_dataset(client)
    started = time.perf_counter()
    for start in range(0, size, BATCH):
        await gql(client, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, min(size, start + BATCH))]})
        if start and start % 20_000 == 0:
            print(f"  {start} records in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"ingested {size} records in {time.perf_counter() - started:.0f} s", flush=True)
    return dataset_id


async def annotator(client: httpx.AsyncClient, dataset_id: str, name: str) -> str:
    ws = (await gql(client, WORKSPACE, {"id": dataset_id}))["dataset"]["workspace"]["id"]
    created = await gql(client, CREATE_USER, {"input": {"username": name, "role": "ANNOTATOR", "workspaceIds": [ws]}})
    return str(created["createUser"]["apiKey"])


async def direct_loops(base_url: str, key: str, dataset_id: str, loops: int) -> list[float]:
    """submitResponse then nextRecords, as the UI does after Ctrl+Enter; seconds per loop."""
    headers = {"Authorization": f"Bearer {key}", "Accept": ACCEPT}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as me:
        current = (await gql(me, NEXT, {"id": dataset_id, "first": 1}))["nextRecords"][0]
        times = []
        for _ in range(loops):
            start = time.perf_counter()
            await gql(me, SUBMIT, {"input": {"recordId": current["id"], "status": "SUBMITTED", "expectedVersion": 0,
                                             "values": [{"question": "preference", "value": RANKING}]}})
            current = (await gql(me, NEXT, {"id": dataset_id, "first": 1}))["nextRecords"][0]
            times.append(time.perf_counter() - start)
        return times


def browser_loops(base_url: str, key: str, dataset_id: str, loops: int) -> list[float]:
    run = subprocess.run(["node", str(ROOT / "bench" / "ui_loop.mjs")], cwd=ROOT / "ui", check=False,
                         capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "FEEDBACKQL_URL": base_url, "FEEDBACKQL_API_KEY": key,
                              "DATASET_ID": dataset_id, "LOOPS": str(loops)})
    if run.returncode != 0:
        raise RuntimeError(f"the browser loop failed:\n{run.stdout}\n{run.stderr}")
    return [ms / 1000 for ms in json.loads(run.stdout.strip().splitlines()[-1])]


def summary(name: str, times: list[float]) -> str:
    quartiles = statistics.quantiles(times, n=20)
    return (f"{name:<28} n={len(times):>3}  p50 {statistics.median(times) * 1000:7.1f} ms   "
            f"p95 {quartiles[18] * 1000:7.1f} ms")


async def main(size: int, loops: int) -> None:
    with database_uri() as uri:
        settings = Settings(mongodb_uri=uri, database_name=f"bench_ui_{os.getpid()}", owner_api_key=KEY,
                            rate_limit_per_second=0, request_timeout_seconds=600)
        with live_server(create_app(settings, load_registry(builtin_only=True))) as base_url:
            async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"},
                                         timeout=600) as owner:
                dataset_id = await ingest(owner, size)
                direct_key = await annotator(owner, dataset_id, "direct")
                browser_key = await annotator(owner, dataset_id, "browser")
                before = await direct_loops(base_url, direct_key, dataset_id, loops)
                in_browser = await asyncio.to_thread(browser_loops, base_url, browser_key, dataset_id, loops)
                after = await direct_loops(base_url, direct_key, dataset_id, loops)
                direct = before + after
                print(f"dataset of {size} records; submit to next record, {loops} loops each")
                print(summary("direct GraphQL (2 calls)", direct))
                print(summary("browser (Ctrl+Enter → shown)", in_browser))
                print(f"ratio browser / direct (p50): {statistics.median(in_browser) / statistics.median(direct):.2f}"
                      "  (target <= 1.5)")
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
        await client.drop_database(settings.database_name)  # faster than deleteDataset at this size
        await client.close()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    asyncio.run(main(int(arguments[0]) if arguments else 100_000, int(arguments[1]) if len(arguments) > 1 else 40))
