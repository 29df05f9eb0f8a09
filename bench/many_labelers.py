"""Many concurrent labelers over real HTTP against `feedbackql serve` (a subprocess on the
embedded database, or MONGODB_URI), each with a key and a connection of their own, looping
nextRecords then submitResponse until the queue has nothing left for them.

Then it checks, from the database: no acknowledged answer lost, none duplicated (one response
per record and labeler), every record COMPLETED with exactly minSubmitted submitted answers
(no over-annotation: leases last 600 s, far beyond the run, and a record is never leased to
more labelers than the answers it still needs), records and counters in step with a recount.
Prints throughput, p50/p95 of one loop, and the counts checked.

    .venv-test/bin/python -m bench.many_labelers [LABELERS] [RECORDS] [MIN_SUBMITTED]   (default 500 500 2)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import MongoClient

from bench.common import database_uri
from feedbackql_server.domain import tally
from tests.served import KEY, service

NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = "mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], key: str = KEY) -> Any:
    body = (await http.post("/graphql", json={"query": query, "variables": variables},
                            headers={"Authorization": f"Bearer {key}"})).json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def prepare(http: httpx.AsyncClient, labelers: int, records: int, min_submitted: int
                  ) -> tuple[str, dict[str, str]]:
    ws = (await gql(http, "mutation { createWorkspace(name: \"load\") { id } }", {}))["createWorkspace"]["id"]
    dataset = (await gql(http, "mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }", {"i": {
        "workspaceId": ws, "name": "load", "fields": [{"name": "prompt", "settings": {"text": {}}}],
        "questions": [{"name": "completion", "settings": {"text": {}}}],
        "distribution": {"minSubmitted": min_submitted}}}))["createDataset"]["id"]
    await gql(http, "mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": dataset})
    for start in range(0, records, 1000):
        await gql(http, "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) "
                  "{ created } }", {"id": dataset, "r": [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}}
                                                        for i in range(start, min(records, start + 1000))]})
    create = "mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey user { id } } }"
    users = {}
    for i in range(labelers):
        made = (await gql(http, create, {"i": {"username": f"l{i}", "role": "ANNOTATOR",
                                               "workspaceIds": [ws]}}))["createUser"]
        users[made["apiKey"]] = made["user"]["id"]
    return dataset, users


async def labeler(url: str, dataset: str, key: str, user_id: str, latencies: list[float],
                  acknowledged: list[tuple[str, str]]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        while True:
            started = time.perf_counter()
            batch = (await gql(http, NEXT, {"id": dataset}, key))["nextRecords"]
            if not batch:
                return
            record_id = batch[0]["id"]
            await gql(http, SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED", "values": [
                {"question": "completion", "value": {"text": f"{user_id} on {record_id}"}}]}}, key)
            acknowledged.append((record_id, user_id))
            latencies.append(time.perf_counter() - started)


def check(uri: str, database: str, dataset: str, acknowledged: list[tuple[str, str]], records: int,
          min_submitted: int) -> dict[str, int]:
    with MongoClient(uri) as client:
        db = client[database]
        responses = list(db.responses.find({"dataset_id": ObjectId(dataset)}))
        stored = list(db.records.find({"dataset_id": ObjectId(dataset)}))
        counters = db.datasets.find_one({"_id": ObjectId(dataset)})["tally"]  # type: ignore[index]
        counters.pop("writes", None)  # how many counter writes there were, not a counter
        counters["users"] = {doc["user"]: {k: v for k, v in doc.items() if k not in ("_id", "dataset_id", "user")}
                             for doc in db.user_tallies.find({"dataset_id": ObjectId(dataset)})}
    pairs = Counter((str(r["record_id"]), str(r["user_id"])) for r in responses)
    duplicated = sum(1 for n in pairs.values() if n > 1)
    lost = sum(1 for pair in acknowledged if pair not in pairs)
    per_record = Counter(str(r["record_id"]) for r in responses if r["status"] == "submitted")
    over = sum(max(0, n - min_submitted) for n in per_record.values())
    not_completed = sum(1 for r in stored if r["status"] != "completed")
    out_of_step = sum(1 for r in stored if r["submitted_count"] != per_record[str(r["_id"])])

    def nonzero(counts: dict[str, Any]) -> dict[str, Any]:
        return {k: nonzero(v) if isinstance(v, dict) else v for k, v in counts.items() if v}

    counters_match = nonzero(counters) == nonzero(tally.recount(stored, min_submitted))
    return {"records": len(stored), "responses": len(responses), "acknowledged": len(acknowledged),
            "expected": records * min_submitted, "lost": lost, "duplicated": duplicated,
            "over_annotated": over, "not_completed": not_completed, "out_of_step": out_of_step,
            "counters_match": int(counters_match)}


async def main(labelers: int, records: int, min_submitted: int) -> int:
    with database_uri() as uri, tempfile.TemporaryDirectory() as folder, \
            service(Path(folder), uri, request_timeout_seconds=600, max_concurrency=labelers + 100) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=600) as http:
            dataset, users = await prepare(http, labelers, records, min_submitted)
        latencies: list[float] = []
        acknowledged: list[tuple[str, str]] = []
        started = time.perf_counter()
        await asyncio.gather(*(labeler(served.url, dataset, key, user, latencies, acknowledged)
                               for key, user in users.items()))
        elapsed = time.perf_counter() - started
        figures = check(uri, served.env["FEEDBACKQL_DATABASE_NAME"], dataset, acknowledged, records, min_submitted)
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"{labelers} labelers, {records} records, minSubmitted {min_submitted}: {len(latencies)} loops in "
          f"{elapsed:.1f} s = {len(latencies) / elapsed:.1f} loops/s; loop p50 {quantiles[49] * 1000:.0f} ms, "
          f"p95 {quantiles[94] * 1000:.0f} ms")
    print("checked:", ", ".join(f"{k} {v}" for k, v in figures.items()))
    broken = (figures["lost"] or figures["duplicated"] or figures["over_annotated"] or figures["not_completed"]
              or figures["out_of_step"] or not figures["counters_match"]
              or figures["acknowledged"] != figures["expected"])
    return 1 if broken else 0


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:]]
    defaults = [500, 500, 2]
    chosen = arguments + defaults[len(arguments):]
    sys.exit(asyncio.run(main(*chosen)))
