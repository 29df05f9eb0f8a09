"""A random concurrent workload (Jepsen-style), shared by ``tests/test_invariants.py`` (small, in
CI) and ``bench/invariants.py`` (100,000 records, 50 labelers).

Labelers lease, submit, save drafts, discard, delete their responses, give leases back and
answer records they were not handed; an admin changes ``minSubmitted``, the guidelines and the
metadata properties, deletes records, re-imports records by external id and adds new ones, and
creates and deletes a second dataset that labelers work too. Every choice comes from one seeded
RNG per actor, so a failing run is named by its seed. Afterwards ``check`` compares the raw
documents with what the clients were told.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from feedbackql_server.settings import Settings
from tests import helpers as h
from tests import interleavings as il
from tests.conftest import GraphQLClient

RELEASE = "mutation($r: ID!) { releaseRecord(recordId: $r) }"
DELETE_RESPONSE = "mutation($r: ID!) { deleteResponse(recordId: $r) }"
DELETE_RECORDS = "mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }"
ALLOWED_CODES = {"NOT_FOUND", "CONFLICT"}
"""Errors a client may get while records and datasets are deleted under it; any other is a bug."""
LABELER_MOVES: Sequence[tuple[str, int]] = (("submit", 55), ("draft", 10), ("discard", 10), ("delete", 8),
                                             ("release", 7), ("unleased", 10))
IMPORT_BATCH = 1000
UNKNOWN = "unknown"
"""The last write's outcome is not known (the service was killed before it answered)."""


@dataclass
class Run:
    seed: int
    records: int
    labelers: int
    seconds: float
    datasets: list[str] = field(default_factory=list)
    last: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(record id, labeler name) -> the status of the labeler's last acknowledged write (None:
    deleted); each labeler acts in sequence, so it is what the stored response must say."""
    outcomes: il.Outcomes = field(default_factory=il.Outcomes)
    operations: int = 0

    def rng(self, actor: str) -> random.Random:
        return random.Random(f"{self.seed}:{actor}")


async def records_of(gql: GraphQLClient, dataset_id: str) -> list[str]:
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 1000})
    return [edge["node"]["id"] for edge in page["records"]["edges"]]


async def new_dataset(gql: GraphQLClient, workspace: str, name: str, records: int, min_submitted: int) -> str:
    dataset_id = str((await h.dataset(gql, workspace, name=name, fields=[{"name": "prompt", "settings": h.TEXT}],
                                      questions=[{"name": "completion", "settings": {"text": {}}}],
                                      distribution={"minSubmitted": min_submitted}))["id"])
    for start in range(0, records, IMPORT_BATCH):
        await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}}
                                              for i in range(start, min(records, start + IMPORT_BATCH))])
    return dataset_id


async def labeler(run: Run, user: GraphQLClient, name: str, deadline: float) -> None:
    rng = run.rng(name)
    moves, weights = zip(*LABELER_MOVES, strict=True)
    while time.monotonic() < deadline:
        dataset_id = rng.choice(run.datasets)
        move = rng.choices(moves, weights)[0]
        try:
            await _move(run, user, name, dataset_id, move, rng)
        except il.Unknown:
            await asyncio.sleep(0.2)  # the service is down: wait for it
        run.operations += 1


async def _move(run: Run, user: GraphQLClient, key: str, dataset_id: str, move: str, rng: random.Random) -> None:
    if move == "delete":
        mine = [record for (record, who), status in run.last.items() if who == key and status not in (None, UNKNOWN)]
        if mine:
            mine_id = rng.choice(mine)
            run.last[(mine_id, key)] = UNKNOWN  # until the service answers
            if await run.outcomes.call(user, DELETE_RESPONSE, {"r": mine_id}) is not None:
                run.last[(mine_id, key)] = None
        return
    record_id = await _a_record(run, user, dataset_id, move, rng)
    if record_id is None:
        return
    if move == "release":
        await run.outcomes.call(user, RELEASE, {"r": record_id})
        return
    status = {"draft": "DRAFT", "discard": "DISCARDED"}.get(move, "SUBMITTED")
    before = run.last.get((record_id, key))
    run.last[(record_id, key)] = UNKNOWN  # until the service answers
    if await run.outcomes.call(user, h.SUBMIT, il.answer(record_id, status, f"{status} by {key}")) is not None:
        run.last[(record_id, key)] = status.lower()
    elif (record_id, key) in run.last:
        run.last[(record_id, key)] = before  # refused: nothing changed


async def _a_record(run: Run, user: GraphQLClient, dataset_id: str, move: str, rng: random.Random) -> str | None:
    if move == "unleased":
        known = [record for record, _ in run.last]
        return rng.choice(known) if known else None
    leased = await run.outcomes.call(user, il.NEXT, {"id": dataset_id, "n": 1})
    if not leased or not leased["nextRecords"]:
        await asyncio.sleep(0.02)
        return None
    record_id: str = leased["nextRecords"][0]["id"]
    return record_id


async def admin(run: Run, gql: GraphQLClient, workspace: str, deadline: float) -> None:
    rng = run.rng("admin")
    generation = 0
    while time.monotonic() < deadline:
        action = rng.choice(["min", "min", "edit", "delete_records", "reimport", "second"])
        generation += action == "second"
        try:
            await _act(run, gql, workspace, action, rng, generation)
        except httpx.TransportError:
            await asyncio.sleep(0.2)  # the service is down: wait for it
        run.operations += 1
        await asyncio.sleep(rng.uniform(0.05, 0.3))


async def _act(run: Run, gql: GraphQLClient, workspace: str, action: str, rng: random.Random,
               generation: int) -> None:
    dataset_id = run.datasets[0]
    if action == "min":
        await gql(il.UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": rng.randint(1, 3)}}})
    elif action == "edit":
        await gql(il.UPDATE, {"id": dataset_id, "input": {"guidelines": f"rules {rng.random()}",
                                                          "metadataProperties": [{"name": "m", "kind": "TERMS"}]}})
    elif action == "delete_records":
        ids = await records_of(gql, dataset_id)
        await gql(DELETE_RECORDS, {"d": dataset_id, "ids": rng.sample(ids, min(3, len(ids)))})
    elif action == "reimport":
        numbers = rng.sample(range(run.records + 20), 5)  # known ones (also deleted) and new ones
        await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"again {i}"}}
                                              for i in numbers])
    else:
        await _replace_second(run, gql, workspace, generation)


async def _replace_second(run: Run, gql: GraphQLClient, workspace: str, generation: int) -> None:
    """Delete the second dataset (while labelers work it) and make a new one."""
    if len(run.datasets) > 1:
        gone = run.datasets.pop()
        await gql(il.DELETE_DATASET, {"id": gone})
    run.datasets.append(await new_dataset(gql, workspace, f"second-{generation}", 30, 2))


async def execute(run: Run, gql: GraphQLClient, users: Sequence[GraphQLClient], workspace: str) -> None:
    deadline = time.monotonic() + run.seconds
    await asyncio.gather(admin(run, gql, workspace, deadline),
                         *(labeler(run, user, f"labeler{i}", deadline) for i, user in enumerate(users)))


async def prepare(run: Run, gql: GraphQLClient) -> tuple[list[GraphQLClient], str]:
    workspace = await h.workspace(gql, "jepsen")
    run.datasets.append(await new_dataset(gql, workspace, "main", run.records, 2))
    users = [await h.new_user(gql, f"labeler{i}", workspaces=[workspace]) for i in range(run.labelers)]
    return users, workspace


async def check(run: Run, settings: Settings, allowed: frozenset[str] = frozenset(ALLOWED_CODES)) -> list[str]:
    """Every invariant, against the raw documents: the independent recount, the service's
    checker, what the clients were told, and that no dataset deleted left anything."""
    unexpected = set(run.outcomes.codes) - allowed
    problems = [f"unexpected error codes {dict(run.outcomes.codes)}"] if unexpected else []
    await quiet(settings)
    async with il.raw_database(settings) as db:
        live = {doc["_id"] async for doc in db.datasets.find({}, {"_id": 1})}
        for dataset_id in live:
            problems += await il.recount_problems(db, dataset_id)
        for name in ("records", "responses", "user_tallies"):
            stray = await db[name].count_documents({"dataset_id": {"$nin": list(live)}})
            problems += [f"{stray} {name} of deleted datasets"] if stray else []
        problems += await _as_told(run, db)
        intents = await db.intents.count_documents({})
        problems += [f"{intents} intent(s) left"] if intents else []
    problems += await il.checker_findings(settings)
    return problems


async def quiet(settings: Settings, seconds: float = 600) -> float:
    """Wait until no write is in flight (a ``minSubmitted`` pass may go on in the background
    after ``updateDataset`` answered); how long that took."""
    started = time.monotonic()
    async with il.raw_database(settings) as db:
        for _ in range(int(seconds * 10)):
            if not await db.intents.count_documents({}):
                break
            await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _as_told(run: Run, db: Any) -> list[str]:
    """Each labeler's last acknowledged write is what is stored (for records that still exist)."""
    existing = {str(doc["_id"]) async for doc in db.records.find({}, {"_id": 1})}
    stored: dict[tuple[str, str], str] = {}
    async for response in db.responses.find({}, {"record_id": 1, "status": 1, "values": 1}):
        text = response.get("values", {}).get("completion", {}).get("value", "")
        stored[(str(response["record_id"]), text.partition(" by ")[2])] = response["status"]
    problems = []
    for (record_id, key), status in run.last.items():
        if record_id not in existing or status == UNKNOWN:
            continue
        found = stored.get((record_id, key), "deleted")
        if found != (status or "deleted"):
            problems.append(f"record {record_id}: a labeler's last acknowledged write was {status}, stored {found}")
    return problems
