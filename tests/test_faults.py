"""Fault injection against real processes: `kill -9` of FerretDB during ingest, during concurrent
labelers and during an export; SIGKILL of `feedbackql serve` during concurrent submits.

Afterwards every acknowledged write is there exactly once and whole, every record's state and
the dataset's counters equal a recount from the responses, and no write intent is left over.
While the database is down requests are told ``UNAVAILABLE`` within seconds, and they work
again when it is back, without restarting the service.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from feedbackql_server.domain import tally
from tests import helpers as h
from tests.served import KEY, FerretDB, Service, killable_ferretdb, service

pytestmark = [pytest.mark.heavy, pytest.mark.faults]

MIN_SUBMITTED = 2
LABELERS = 20
RECORDS = 50
OUTAGE_SECONDS = 5.0  # longer than the driver's 3 s wait for a server
UNAVAILABLE_WITHIN = 10.0  # the driver gives up on an unreachable server after 3 s; generous for a loaded machine
NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = """mutation($input: ResponseInput!) { submitResponse(input: $input) { id status } }"""


@dataclass
class Failure:
    code: str
    seconds: float


@dataclass
class Api:
    """Posts to a served app; failures are kept, not raised (the service may be down)."""

    url: str
    failures: list[Failure] = field(default_factory=list)

    async def post(self, http: httpx.AsyncClient, key: str, query: str, variables: dict[str, Any]) -> Any:
        started = time.monotonic()
        try:
            response = await http.post(f"{self.url}/graphql", json={"query": query, "variables": variables},
                                       headers={"Authorization": f"Bearer {key}"})
        except httpx.TransportError:
            return None  # the service itself is down (killed): nothing was acknowledged
        body = response.json()
        if body.get("errors"):
            self.failures.append(Failure(body["errors"][0]["extensions"]["code"], time.monotonic() - started))
            return None
        assert response.status_code == 200, body
        return body["data"]

    async def owner(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(timeout=60) as http:
            data = await self.post(http, KEY, query, variables or {})
        assert data is not None, self.failures[-1:]
        return data


class OwnerClient:
    """The tests' GraphQL helpers (tests/helpers.py) over a served app."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.api.owner(query, variables)

    def as_user(self, key: str) -> Any:
        raise NotImplementedError


async def _dataset(api: Api, records: int) -> tuple[str, list[str], dict[str, str]]:
    """A dataset with ``records`` records and LABELERS annotators: its id, their keys, and
    each key's user id."""
    owner: Any = OwnerClient(api)
    dataset_id = await h.sft_dataset(owner, distribution={"minSubmitted": MIN_SUBMITTED})
    for start in range(0, records, 100):
        await h.add_records(owner, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}}
                                                for i in range(start, min(records, start + 100))])
    workspace_id = await h.workspace_of(owner, dataset_id)
    keys, users = [], {}
    for i in range(LABELERS):
        created = (await owner(h.CREATE_USER, {"input": {"username": f"l{i}", "role": "ANNOTATOR",
                                                         "workspaceIds": [workspace_id]}}))["createUser"]
        keys.append(created["apiKey"])
        users[created["apiKey"]] = created["user"]["id"]
    return dataset_id, keys, users


@dataclass
class Labelers:
    api: Api
    dataset_id: str
    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)
    """(record id, user id, answer) of each submit the service confirmed."""

    async def run(self, key: str, user_id: str) -> None:
        """nextRecords then submitResponse, until nothing is left for this labeler."""
        async with httpx.AsyncClient(timeout=60) as http:
            while True:
                batch = await self.api.post(http, key, NEXT, {"id": self.dataset_id})
                if batch is None:
                    await asyncio.sleep(0.2)
                    continue
                if not batch["nextRecords"]:
                    return
                record_id = batch["nextRecords"][0]["id"]
                answer = f"{user_id} on {record_id}"
                submitted = await self.api.post(http, key, SUBMIT, {"input": {
                    "recordId": record_id, "status": "SUBMITTED",
                    "values": [{"question": "completion", "value": {"text": answer}}]}})
                if submitted is not None:
                    self.acknowledged.append((record_id, user_id, answer))


async def _until(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


def _without_zeros(counts: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in counts.items():
        value = _without_zeros(value) if isinstance(value, dict) else value
        if value:
            kept[key] = value
    return kept


def check_in_step(uri: str, database: str, dataset_id: str,
                  acknowledged: list[tuple[str, str, str]]) -> dict[str, int]:
    """Exactly once, whole, in step (records and counters), nothing left over; the counts."""
    with MongoClient(uri) as client:
        db = client[database]
        responses = list(db.responses.find({"dataset_id": ObjectId(dataset_id)}))
        records = list(db.records.find({"dataset_id": ObjectId(dataset_id)}))
        dataset = db.datasets.find_one({"_id": ObjectId(dataset_id)})
        user_tallies = {doc["user"]: {k: v for k, v in doc.items() if k not in ("_id", "dataset_id", "user")}
                        for doc in db.user_tallies.find({"dataset_id": ObjectId(dataset_id)})}
        intents = db.intents.count_documents({})
    assert dataset is not None
    per_pair = Counter((r["record_id"], r["user_id"]) for r in responses)
    assert max(per_pair.values(), default=1) == 1, "a (record, user) pair has two responses"
    by_pair = {(str(r["record_id"]), str(r["user_id"])): r for r in responses}
    for record_id, user_id, answer in acknowledged:
        response = by_pair[(record_id, user_id)]
        assert response["status"] == "submitted"
        assert response["values"]["completion"]["value"] == answer
    assert Counter(r.get("external_id") for r in records).most_common(1)[0][1] == 1
    for record in records:
        submitted = sorted(str(r["user_id"]) for r in responses
                           if r["record_id"] == record["_id"] and r["status"] == "submitted")
        assert sorted(record.get("submitted_by", [])) == submitted, record
        assert record["submitted_count"] == len(submitted)
        assert record["status"] == ("completed" if len(submitted) >= MIN_SUBMITTED else "pending")
        assert len(submitted) <= MIN_SUBMITTED, "over-annotated"
    counters = {name: value for name, value in dataset["tally"].items() if name != "writes"}  # counts writes
    stored = _without_zeros({**counters, "users": user_tallies})
    recounted = _without_zeros({"users": {}, **tally.recount(records, MIN_SUBMITTED)})
    wrong_users = {user: (stored.get("users", {}).get(user), recounted.get("users", {}).get(user))
                   for user in {*stored.get("users", {}), *recounted.get("users", {})}
                   if stored.get("users", {}).get(user) != recounted.get("users", {}).get(user)}
    assert stored == recounted, f"counters (stored, recounted) differ: users {wrong_users}; " \
        f"dataset {({k: v for k, v in stored.items() if k != 'users'}, {k: v for k, v in recounted.items() if k != 'users'})}"
    assert intents == 0
    return {"records": len(records), "responses": len(responses), "acknowledged": len(acknowledged)}


def _check_outage(api: Api) -> None:
    assert api.failures, "the outage went unnoticed"
    codes = Counter(failure.code for failure in api.failures)
    assert set(codes) <= {"UNAVAILABLE"}, codes
    slowest = max((failure.seconds for failure in api.failures), default=0.0)
    assert slowest < UNAVAILABLE_WITHIN, f"an UNAVAILABLE answer took {slowest:.1f} s"


async def _outage(database: FerretDB, after: float) -> None:
    await asyncio.sleep(after)
    database.kill()
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(database.start)


async def test_labelers_through_a_database_kill_and_a_service_kill(tmp_path: Path) -> None:
    with killable_ferretdb(tmp_path / "db") as database, \
            service(tmp_path / "service", database.uri, request_timeout_seconds=60) as served:
        api = Api(served.url)
        dataset_id, keys, users = await _dataset(api, RECORDS)
        labelers = Labelers(api, dataset_id)
        work = asyncio.gather(*(labelers.run(key, users[key]) for key in keys))
        await _until(lambda: len(labelers.acknowledged) >= 10)
        await _outage(database, after=0)
        recovered = len(labelers.acknowledged)
        await _until(lambda: len(labelers.acknowledged) >= recovered + 10)  # back without a restart
        await asyncio.to_thread(_kill_and_restart, served)
        await asyncio.wait_for(work, timeout=300)
        _check_outage(api)
        counts = check_in_step(database.uri, served.env["FEEDBACKQL_DATABASE_NAME"], dataset_id,
                               labelers.acknowledged)
    assert counts["responses"] == RECORDS * MIN_SUBMITTED
    print(f"faults/labelers: {counts}, UNAVAILABLE answers {len(api.failures)}, "
          f"slowest {max(f.seconds for f in api.failures):.2f} s")


def _kill_and_restart(served: Service) -> None:
    served.kill()
    served.start()


def _restart(served: Service) -> None:
    served.stop()
    served.start()


async def test_ingest_and_export_through_a_database_kill(tmp_path: Path) -> None:
    with killable_ferretdb(tmp_path / "db") as database, \
            service(tmp_path / "service", database.uri, request_timeout_seconds=60) as served:
        api = Api(served.url)
        owner: Any = OwnerClient(api)
        dataset_id = await h.sft_dataset(owner, distribution={"minSubmitted": MIN_SUBMITTED})
        batches = [[{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}} for i in range(n, n + 50)]
                   for n in range(0, 1000, 50)]
        acknowledged: list[tuple[str, str, str]] = []
        pending = list(range(len(batches)))

        async def ingest() -> None:
            async with httpx.AsyncClient(timeout=60) as http:
                while pending:
                    index = pending[0]
                    done = await api.post(http, KEY, h.ADD_RECORDS, {"id": dataset_id, "records": batches[index]})
                    if done is None:
                        await asyncio.sleep(0.2)
                        continue
                    assert not done["addRecords"]["errors"]
                    pending.pop(0)

        work = asyncio.ensure_future(ingest())
        await _until(lambda: len(pending) <= len(batches) - 3)
        await _outage(database, after=0)
        await asyncio.wait_for(work, timeout=300)
        export_outcome = await _export_through_a_kill(served, database, dataset_id)
        _check_outage(api)
        await asyncio.to_thread(_restart, served)  # finishes what the kills interrupted
        counts = check_in_step(database.uri, served.env["FEEDBACKQL_DATABASE_NAME"], dataset_id, acknowledged)
        full = await _export(served, dataset_id)
    assert counts["records"] == 1000
    assert full == 1000
    print(f"faults/ingest+export: {counts}, UNAVAILABLE answers {len(api.failures)}, "
          f"export cut by the kill: {export_outcome}")


async def _export(served: Service, dataset_id: str) -> int:
    """Rows of a whole export."""
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.get(f"{served.url}/datasets/{dataset_id}/export",
                                  headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    return len(response.text.splitlines())


async def _export_through_a_kill(served: Service, database: FerretDB, dataset_id: str) -> str:
    """An export the database dies under is never a complete-looking answer with rows missing."""
    rows = 0
    outcome = "completed"
    async with httpx.AsyncClient(timeout=60) as http:
        try:
            async with http.stream("GET", f"{served.url}/datasets/{dataset_id}/export",
                                   headers={"Authorization": f"Bearer {KEY}"}) as response:
                if response.status_code == 503:
                    outcome = "UNAVAILABLE before it started"
                else:
                    assert response.status_code == 200
                    async for _line in response.aiter_lines():
                        rows += 1
                        if rows == 50:
                            database.kill()
        except httpx.RemoteProtocolError:
            outcome = f"cut off after {rows} rows"
    if outcome == "completed":
        assert rows == 1000, f"an export ended cleanly with {rows} of 1000 rows"
    if database.process is not None and database.process.poll() is not None:
        await asyncio.to_thread(database.start)
    return outcome
