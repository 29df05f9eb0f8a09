"""A crash between an answer and its record's state is finished at the next start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import serve

STATE = """query($id: ID!, $d: ID!) { record(id: $id) { status responses { status } }
  datasetProgress(datasetId: $d) { completed pending responses { submitted } } }"""


async def test_an_answer_written_without_its_record_state_is_finished_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql)
        await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
        record_id = (await gql(h.RECORDS, {"id": dataset_id, "first": 1}))["records"]["edges"][0]["node"]["id"]
        owner_id = (await gql("{ me { id } }"))["me"]["id"]
        record = (await gql(STATE, {"id": record_id, "d": dataset_id}))
        assert record["record"]["status"] == "PENDING"

    # What a process killed between the two writes leaves: the intent and the response, and a
    # record that does not know of it.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    db = client[settings.database_name]
    stored = await db["records"].find_one({"_id": ObjectId(record_id)})
    assert stored is not None
    now = datetime.now(UTC)
    await db["intents"].insert_one({"record_id": ObjectId(record_id)})
    await db["responses"].insert_one({
        "record_id": ObjectId(record_id), "user_id": ObjectId(owner_id), "dataset_id": ObjectId(dataset_id),
        "bucket": stored["bucket"], "status": "submitted", "version": 1, "created_at": now, "updated_at": now,
        "values": {"completion": {"kind": "text", "value": "written before the crash", "plugin_version": "0.1.0"}}})
    await client.close()

    async with serve(settings, builtin_registry) as gql:
        after = await gql(STATE, {"id": record_id, "d": dataset_id})
        assert after["record"] == {"status": "COMPLETED", "responses": [{"status": "SUBMITTED"}]}
        assert after["datasetProgress"] == {"completed": 1, "pending": 0, "responses": {"submitted": 1}}
    client = AsyncMongoClient(settings.mongodb_uri)
    assert await client[settings.database_name]["intents"].count_documents({}) == 0
    await client.close()


PROGRESS = "query($d: ID!) { datasetProgress(datasetId: $d) { total completed pending responses { submitted } } }"


async def test_counters_a_crash_left_behind_are_recounted_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    """Killed after a record's state was written but before the counters' $inc (an answer),
    or after records were written but before theirs (addRecords): the intent names the
    record or the dataset, and the next start recounts that dataset."""
    async with serve(settings, builtin_registry) as gql:
        answered = await h.sft_dataset(gql)
        await h.add_records(gql, answered, [{"fields": {"prompt": "p"}}])
        record_id = (await gql(h.RECORDS, {"id": answered, "first": 1}))["records"]["edges"][0]["node"]["id"]
        await gql(h.SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED",
                                       "values": [{"question": "completion", "value": {"text": "t"}}]}})
        ingested = (await h.dataset(gql, await h.workspace(gql, "other"), name="ingested",
                                    fields=[{"name": "prompt", "settings": h.TEXT}],
                                    questions=[{"name": "completion", "settings": {"text": {}}}]))["id"]
        await h.add_records(gql, ingested, [{"fields": {"prompt": f"p{i}"}} for i in range(3)])
        before = {d: (await gql(PROGRESS, {"d": d}))["datasetProgress"] for d in (answered, ingested)}

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    db = client[settings.database_name]
    await db["datasets"].update_one({"_id": ObjectId(answered)}, {"$inc": {
        "tally.completed": -1, "tally.pending": 1, "tally.responses.submitted": -1}})
    await db["intents"].insert_one({"record_id": ObjectId(record_id)})
    await db["datasets"].update_one({"_id": ObjectId(ingested)}, {"$inc": {"tally.records": -3, "tally.pending": -3}})
    await db["intents"].insert_one({"dataset_id": ObjectId(ingested)})
    await client.close()

    async with serve(settings, builtin_registry) as gql:
        after = {d: (await gql(PROGRESS, {"d": d}))["datasetProgress"] for d in (answered, ingested)}
    assert after == before
    assert before[answered] == {"total": 1, "completed": 1, "pending": 0, "responses": {"submitted": 1}}
    assert before[ingested]["total"] == 3
