"""The records view in the browser against the same GraphQL call made directly, at 100,000 records.

A real server (uvicorn on loopback) holds a dataset of SIZE records (default 100,000) with
metadata properties. The records view (Debian's Chromium driven by ``bench/records_view.mjs``)
is moved, by its address, between three lists: the first page, a page filtered by a metadata
range (``length`` 10 to 12: 3 records in 100 match) and a text search for a word of one
record; each time is taken in the page, from the address change to the list's rows on
screen. The same ``records``
call the view sends for that list (ui/src/ops.ts ``RECORDS_PAGE``, same variables) is made
directly over HTTP before and after, and their median is the baseline. Prints both and the
ratios (target <= 2).

    .venv-test/bin/python -m bench.records_view [SIZE] [ROUNDS]      (default 100000 15)
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
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.common import KEY, TEXT, database_uri, gql, record
from bench.ui_loop import annotator, summary
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests.live import live_server

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
# The document the view sends (ui/src/ops.ts RECORDS_PAGE), so that both sides do the same work.
RECORDS_PAGE = """query RecordsPage($id: ID!, $filter: RecordFilter, $sort: RecordSort, $first: Int!, $after: String) {
  records(datasetId: $id, filter: $filter, sort: $sort, first: $first, after: $after) {
    edges { node { id externalId fields metadata suggestions { question score } status updatedAt
      responses { status version user { id } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ACCEPT = "application/graphql-response+json, application/json;q=0.9"


def lists_for(size: int) -> dict[str, tuple[str, dict[str, Any], str, int]]:
    """Each list: its address query, the filter the view sends for it, and what it shows first.
    The text search is a number found in one record only (whole words), seven tenths in."""
    rare = str(size * 7 // 10)
    return {
        "first page": ("", {}, "rec-0", 50),
        "metadata range": ("meta=" + json.dumps({"length": {"ge": 10, "le": 12}}, separators=(",", ":")),
                           {"metadata": [{"name": "length", "values": None, "ge": 10, "le": 12}]}, "rec-10", 50),
        "text search": (f"text={rare}", {"text": rare}, f"rec-{rare}", 1),
    }


async def dataset_with_metadata(client: httpx.AsyncClient, size: int) -> str:
    ws = (await gql(client, "mutation { createWorkspace(name: \"bench\") { id } }"))["createWorkspace"]["id"]
    create = "mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }"
    dataset_id = str((await gql(client, create, {"input": {
        "workspaceId": ws, "name": "records-view",
        "fields": [{"name": name, "settings": TEXT} for name in ("prompt", "response-1", "response-2")],
        "questions": [{"name": "preference", "settings": {"ranking": {"options": [
            {"value": "response-1", "text": "1"}, {"value": "response-2", "text": "2"}]}}}],
        "metadataProperties": [{"name": "source", "kind": "TERMS", "values": ["synthetic"]},
                               {"name": "length", "kind": "INTEGER", "min": 0, "max": 99}],
    }}))["createDataset"]["id"])
    await gql(client, "mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": dataset_id})
    started = time.perf_counter()
    for start in range(0, size, BATCH):
        await gql(client, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, min(size, start + BATCH))]})
    print(f"ingested {size} records in {time.perf_counter() - started:.0f} s", flush=True)
    return dataset_id


async def direct(base_url: str, key: str, dataset_id: str, rounds: int, size: int) -> dict[str, list[float]]:
    """The view's own records call for each list, made over HTTP; seconds per call."""
    times: dict[str, list[float]] = {name: [] for name in lists_for(size)}
    headers = {"Authorization": f"Bearer {key}", "Accept": ACCEPT}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=600) as me:
        for _ in range(rounds):
            for name, (_, given, first, count) in lists_for(size).items():
                filter_ = {"text": None, "status": None, "myResponseStatus": None, "metadata": None,
                           "externalIds": None, "responseStatus": None, **given}
                start = time.perf_counter()
                data = await gql(me, RECORDS_PAGE, {"id": dataset_id, "filter": filter_, "first": 50, "after": None,
                                                    "sort": {"field": "INSERTED_AT", "direction": "ASC"}})
                times[name].append(time.perf_counter() - start)
                edges = data["records"]["edges"]
                assert (edges[0]["node"]["externalId"], len(edges)) == (first, count), name
    return times


def in_browser(base_url: str, key: str, dataset_id: str, rounds: int, size: int) -> dict[str, list[float]]:
    lists = {name: {"query": query, "first": first, "count": count}
             for name, (query, _, first, count) in lists_for(size).items()}
    run = subprocess.run(["node", str(ROOT / "bench" / "records_view.mjs")], cwd=ROOT / "ui", check=False,
                         capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "FEEDBACKQL_URL": base_url, "FEEDBACKQL_API_KEY": key,
                              "DATASET_ID": dataset_id, "ROUNDS": str(rounds), "LISTS": json.dumps(lists)})
    if run.returncode != 0:
        raise RuntimeError(f"the browser run failed:\n{run.stdout}\n{run.stderr}")
    measured: dict[str, list[float]] = json.loads(run.stdout.strip().splitlines()[-1])
    return {name: [ms / 1000 for ms in times] for name, times in measured.items()}


async def main(size: int, rounds: int) -> None:
    with database_uri() as uri:
        settings = Settings(mongodb_uri=uri, database_name=f"bench_view_{os.getpid()}", owner_api_key=KEY,
                            rate_limit_per_second=0, request_timeout_seconds=600)
        with live_server(create_app(settings, load_registry(builtin_only=True))) as base_url:
            async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"},
                                         timeout=600) as owner:
                dataset_id = await dataset_with_metadata(owner, size)
                key = await annotator(owner, dataset_id, "viewer")
                before = await direct(base_url, key, dataset_id, rounds, size)
                view = await asyncio.to_thread(in_browser, base_url, key, dataset_id, rounds, size)
                after = await direct(base_url, key, dataset_id, rounds, size)
                print(f"dataset of {size} records; {rounds} rounds of each list")
                for name in lists_for(size):
                    made = before[name] + after[name]
                    print(summary(f"{name}: direct", made))
                    print(summary(f"{name}: records view", view[name]))
                    print(f"  ratio view / direct (p50): {statistics.median(view[name]) / statistics.median(made):.2f}"
                          "  (target <= 2)")
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
        await client.drop_database(settings.database_name)
        await client.close()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    asyncio.run(main(int(arguments[0]) if arguments else 100_000, int(arguments[1]) if len(arguments) > 1 else 15))
