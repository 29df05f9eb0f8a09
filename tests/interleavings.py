"""What the interleaving tests share: labelers working a dataset through the API, and the
invariants checked two ways against the raw documents — by an independent recount written
here (so that the service's own checker is tested too) and by ``domain/invariants.check``,
the code ``feedbackql check`` runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient

NEXT = "mutation($id: ID!, $n: Int!) { nextRecords(datasetId: $id, first: $n) { id } }"
UPDATE = "mutation($id: ID!, $input: UpdateDatasetInput!) { updateDataset(id: $id, input: $input) { id } }"
DELETE_DATASET = "mutation($id: ID!) { deleteDataset(id: $id) }"
ACTIVE = ("submitted", "draft", "discarded")
EXPECTED_CODES = {"NOT_FOUND", "CONFLICT"}
"""What a labeler may be told while records, responses and datasets are deleted under them."""


def answer(record_id: str, status: str = "SUBMITTED", text: str = "t") -> dict[str, Any]:
    return {"input": {"recordId": record_id, "status": status,
                      "values": [{"question": "completion", "value": {"text": text}}]}}


async def labelers(gql: GraphQLClient, dataset_id: str, count: int) -> list[GraphQLClient]:
    ws = await h.workspace_of(gql, dataset_id)
    return [await h.new_user(gql, f"labeler{i}", workspaces=[ws]) for i in range(count)]


class Unknown(Exception):
    """The service went away before it answered: the call may or may not have been done."""


@dataclass
class Outcomes:
    """What the clients were told: acknowledged submissions (record id, answer text) and
    every error code, which must be one a client can act on."""

    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)

    async def call(self, user: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The data, or None after an error (its code counted); ``Unknown`` if no answer came."""
        try:
            body = await user.raw(query, variables)
        except httpx.TransportError as exc:
            self.codes["UNAVAILABLE"] += 1
            raise Unknown(query) from exc
        if body.get("errors"):
            self.codes[body["errors"][0].get("extensions", {}).get("code", "?")] += 1
            return None
        data: dict[str, Any] = body["data"]
        return data


async def label(user: GraphQLClient, dataset_id: str, stop: asyncio.Event, outcomes: Outcomes) -> None:
    """Take a record from the queue, submit it; until ``stop`` or the queue is empty."""
    while not stop.is_set():
        leased = await outcomes.call(user, NEXT, {"id": dataset_id, "n": 1})
        if not leased or not leased["nextRecords"]:
            if leased is None:
                return  # the dataset is gone
            await asyncio.sleep(0.05)
            continue
        record_id = leased["nextRecords"][0]["id"]
        text = f"{record_id} by {user.api_key}"
        if await outcomes.call(user, h.SUBMIT, answer(record_id, text=text)) is not None:
            outcomes.acknowledged.append((record_id, text))


@contextlib.asynccontextmanager
async def raw_database(settings: Settings) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    try:
        yield client[settings.database_name]
    finally:
        await client.close()


async def recount_problems(db: Any, dataset_id: ObjectId) -> list[str]:
    """The invariants of one dataset from its raw documents, counted here from scratch."""
    dataset = await db.datasets.find_one({"_id": dataset_id})
    minimum = dataset["distribution"]["min_submitted"]
    records = await db.records.find({"dataset_id": dataset_id}).to_list()
    responses = [r for r in await db.responses.find({"dataset_id": dataset_id}).to_list() if r["status"] in ACTIVE]
    problems: list[str] = []
    by_record: defaultdict[ObjectId, dict[str, str]] = defaultdict(dict)
    for response in responses:
        by_record[response["record_id"]][str(response["user_id"])] = response["status"]
    counts: Counter[str] = Counter()
    now = datetime.now(UTC)
    for record in records:
        users = by_record.pop(record["_id"], {})
        submitted = {u for u, s in users.items() if s == "submitted"}
        complete = len(submitted) >= minimum
        counts.update({"records": 1, "completed" if complete else "pending": 1,
                       "over": max(0, len(submitted) - minimum)})
        for user, status in users.items():
            counts[f"responses.{status}"] += 1
            counts[f"users.{user}.{status}"] += 1
            counts[f"users.{user}.answered_pending"] += not complete
        for status in ACTIVE:
            if set(record.get(f"{status}_by", [])) != {u for u, s in users.items() if s == status}:
                problems.append(f"record {record['_id']}: {status}_by differs from its responses")
        if record["status"] != ("completed" if complete else "pending"):
            problems.append(f"record {record['_id']}: {record['status']} with {len(submitted)} of {minimum}")
        answered = {u for u, s in users.items() if s != "draft"}
        if any(lease["user"] in answered and lease["until"] > now for lease in record.get("leases", [])):
            problems.append(f"record {record['_id']}: leased to a labeler who answered it")
    problems += [f"responses of the missing record {record_id}" for record_id in by_record]
    stored = _flat({k: v for k, v in dataset.get("tally", {}).items() if k != "writes"})
    async for doc in db.user_tallies.find({"dataset_id": dataset_id}):
        stored.update({f"users.{doc['user']}.{k}": v for k, v in doc.items() if k not in ("_id", "dataset_id", "user")})
    stored = {k: v for k, v in stored.items() if v}
    expected = {k: v for k, v in counts.items() if v}
    if stored != expected:
        wrong = sorted(k for k in set(stored) | set(expected) if stored.get(k) != expected.get(k))
        problems.append("counters: " + ", ".join(f"{k} {stored.get(k, 0)} != {expected.get(k, 0)}" for k in wrong))
    return problems


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


async def leftovers(db: Any, dataset_id: ObjectId) -> dict[str, int]:
    """Documents of a deleted dataset that are still there."""
    return {name: await db[name].count_documents({"dataset_id": dataset_id})
            for name in ("records", "responses", "user_tallies")}


async def checker_findings(settings: Settings) -> list[str]:
    """What the service's own checker (``feedbackql check``, without repairs) finds."""
    from feedbackql_server.domain import invariants  # here: the recount above runs on any version
    from feedbackql_server.storage import Storage

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    try:
        storage = Storage(client[settings.database_name])
        await storage.prepare()
        report = await invariants.check(storage, repair=False)
    finally:
        await client.close()
    return [f"{finding.dataset_id}: {finding.what}" for finding in report.findings]
