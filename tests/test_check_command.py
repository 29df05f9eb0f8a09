"""``feedbackql check``: finds what breaks the invariants in a real database, repairs it with
``--repair``, and exits non-zero only while something stays wrong."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from bson import ObjectId

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests import interleavings as il
from tests.conftest import serve


async def _check(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MONGODB_URI": str(settings.mongodb_uri), "FEEDBACKQL_DATABASE_NAME": settings.database_name}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "feedbackql_server", "check", *args],
                                   capture_output=True, text=True, env=env, timeout=120, check=False)


async def test_check_reports_then_repairs_records_counters_and_orphans(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": 2})
        await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(3)])
        edges = (await gql(h.RECORDS, {"id": dataset_id, "first": 3}))["records"]["edges"]
        record_ids = [ObjectId(edge["node"]["id"]) for edge in edges]
        await gql(h.SUBMIT, il.answer(str(record_ids[0])))
    clean = await _check(settings)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 problem(s)" in clean.stdout

    gone = ObjectId()
    async with il.raw_database(settings) as db:
        # What the races of issue 20 left: a record completed with 1 of 2 answers, a counter
        # behind, and a response of a deleted dataset.
        await db.records.update_one({"_id": record_ids[0]}, {"$set": {"status": "completed"}})
        await db.datasets.update_one({"_id": ObjectId(dataset_id)}, {"$inc": {"tally.responses.submitted": -1}})
        await db.responses.insert_one({"dataset_id": gone, "record_id": ObjectId(), "user_id": ObjectId(),
                                       "status": "submitted", "version": 1, "values": {}})
    found = await _check(settings)
    assert found.returncode == 1
    assert "completed with 1 of 2 submitted answers [NOT repaired]" in found.stdout
    assert "counters: responses.submitted 0, recount 1 [NOT repaired]" in found.stdout, found.stdout
    assert f"dataset {gone}: records, responses, counters or vectors of a dataset that does not exist" in found.stdout

    repaired = await _check(settings, "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert "3 problem(s), 3 repaired, 0 left" in repaired.stdout
    async with il.raw_database(settings) as db:
        assert await il.recount_problems(db, ObjectId(dataset_id)) == []
        assert await db.responses.count_documents({"dataset_id": gone}) == 0
    again = await _check(settings)
    assert again.returncode == 0
    assert "0 problem(s)" in again.stdout


async def test_check_finds_and_deletes_vectors_that_outlived_their_record_space_or_dataset(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql)
        await gql("""mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "e", dimension: 2}) { name } }""",
                  {"id": dataset_id})
        await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}, "vectors": {"e": [1, i + 1]}}
                                              for i in range(3)])
    clean = await _check(settings)
    assert "0 problem(s)" in clean.stdout, clean.stdout + clean.stderr
    gone = ObjectId()
    async with il.raw_database(settings) as db:
        kept = await db.record_vectors.find_one({"dataset_id": ObjectId(dataset_id)})
        assert kept is not None
        stray = [{**kept, "_id": f"{ObjectId()}:{kept['space']}", "record_id": ObjectId()},  # a deleted record's
                 {**kept, "_id": f"{kept['record_id']}:{ObjectId()}", "space": str(ObjectId())},  # a removed space's
                 {**kept, "_id": f"{ObjectId()}:x", "dataset_id": gone}]  # a deleted dataset's
        await db.record_vectors.insert_many(stray)
    found = await _check(settings)
    assert found.returncode == 1
    assert f"dataset {dataset_id}: 2 vector(s) of deleted records or removed spaces [NOT repaired]" in found.stdout
    assert f"dataset {gone}: records, responses, counters or vectors of a dataset that does not exist" in found.stdout
    assert (await _check(settings, "--repair")).returncode == 0
    async with il.raw_database(settings) as db:
        assert await db.record_vectors.count_documents({"_id": {"$in": [doc["_id"] for doc in stray]}}) == 0
        assert await db.record_vectors.count_documents({"dataset_id": ObjectId(dataset_id)}) == 3
