"""Records in numbered buckets: pages across buckets, and data written before they existed."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.storage.buckets import BUCKET_SIZE, READ_AHEAD
from feedbackql_server.storage.layout import LAYOUT_VERSION
from tests import helpers as h
from tests.conftest import GraphQLClient, serve

PAGE = """query($id: ID!, $first: Int!, $after: String, $sort: RecordSort) {
  records(datasetId: $id, first: $first, after: $after, sort: $sort) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id externalId status } } } }"""


async def all_pages(gql: GraphQLClient, dataset_id: str, first: int, direction: str = "ASC") -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(PAGE, {"id": dataset_id, "first": first, "after": after,
                                 "sort": {"field": "INSERTED_AT", "direction": direction}}))["records"]
        seen += [edge["node"]["externalId"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_pages_cross_buckets_and_skip_deleted_records(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    total = 2 * BUCKET_SIZE + 37
    for start in range(0, total, 100):
        await h.add_records(gql, dataset_id, [{"externalId": f"r{i:04}", "fields": {"prompt": "p"}}
                                              for i in range(start, min(total, start + 100))])
    expected = [f"r{i:04}" for i in range(total)]
    first_page = (await gql(PAGE, {"id": dataset_id, "first": total}))["records"]["edges"]
    doomed = [edge["node"]["id"] for edge in first_page if int(edge["node"]["externalId"][1:]) % 7 == 3]
    await gql("mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }",
              {"d": dataset_id, "ids": doomed})
    expected = [name for name in expected if int(name[1:]) % 7 != 3]
    assert await all_pages(gql, dataset_id, 7) == expected
    assert await all_pages(gql, dataset_id, 100) == expected
    assert await all_pages(gql, dataset_id, 9, "DESC") == expected[::-1]
    # A re-import keeps each record's place.
    await h.add_records(gql, dataset_id, [{"externalId": "r0001", "fields": {"prompt": "changed"}}])
    assert await all_pages(gql, dataset_id, 50) == expected


async def test_cursors_made_before_buckets_still_work(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": "p"}} for i in range(5)])
    edges = (await gql(PAGE, {"id": dataset_id, "first": 5}))["records"]["edges"]
    old_cursor = base64.urlsafe_b64encode(json.dumps({"o": "ia", "i": edges[1]["node"]["id"]}).encode()).decode()
    page = (await gql(PAGE, {"id": dataset_id, "first": 2, "after": old_cursor}))["records"]
    assert [edge["node"]["externalId"] for edge in page["edges"]] == ["r2", "r3"]
    forged = base64.urlsafe_b64encode(json.dumps({"o": "ia", "i": edges[1]["node"]["id"], "s": -4}).encode()).decode()
    error = await gql.error(PAGE, {"id": dataset_id, "first": 2, "after": forged})
    assert error["extensions"]["code"] == "VALIDATION"


async def test_data_written_before_the_buckets_is_migrated_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    """Documents exactly as the previous version wrote them: no numbers, no queue fields."""
    db_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = db_client[settings.database_name]
    now = datetime.now(UTC)
    workspace_id, dataset_id, owner_id = ObjectId(), ObjectId(), ObjectId()
    await db["workspaces"].insert_one({"_id": workspace_id, "name": "old", "created_at": now})
    await db["datasets"].insert_one({
        "_id": dataset_id, "workspace_id": workspace_id, "name": "old", "guidelines": None, "status": "ready",
        "fields": [{"name": "prompt", "title": "prompt", "required": True, "kind": "text",
                    "settings": {"useMarkdown": False}}],
        "questions": [{"name": "completion", "title": "c", "description": None, "required": True,
                       "kind": "text", "settings": {"useMarkdown": False}}],
        "metadata_properties": [], "distribution": {"min_submitted": 1}, "allow_extra_metadata": True,
        "revision": 0, "created_at": now, "updated_at": now})
    record_ids = [ObjectId() for _ in range(3)]
    for i, record_id in enumerate(record_ids):
        done = i == 0
        await db["records"].insert_one({
            "_id": record_id, "dataset_id": dataset_id, "fields": {"prompt": f"old {i}"}, "metadata": {},
            "suggestions": [], "search_text": f"old {i}", "external_id": f"o{i}", "ext_key": f"o{i}",
            "status": "completed" if done else "pending", "submitted_by": [str(owner_id)] if done else [],
            "draft_by": [], "discarded_by": [], "response_versions": {str(owner_id): 1} if done else {},
            "created_at": now, "updated_at": now})
    await db["users"].insert_one({"_id": owner_id, "username": "old-owner", "role": "owner",
                                  "api_key_hash": "x" * 64, "workspace_ids": [], "created_at": now})
    await db["responses"].insert_one({
        "record_id": record_ids[0], "user_id": owner_id, "dataset_id": dataset_id, "status": "submitted",
        "values": {"completion": {"kind": "text", "value": "an old answer"}}, "version": 1,
        "created_at": now, "updated_at": now})
    await db_client.close()

    async with serve(settings, builtin_registry) as gql:
        assert await all_pages(gql, str(dataset_id), 2) == ["o0", "o1", "o2"]
        exported = await gql.http.get(f"/datasets/{dataset_id}/export", headers={"Authorization": f"Bearer {gql.api_key}"})
        rows = [json.loads(line) for line in exported.text.splitlines()]
        assert rows[0]["responses"][0]["values"] == {"completion": "an old answer"}
        progress = await gql("query($id: ID!) { datasetProgress(datasetId: $id) { total completed responses { submitted } } }",
                             {"id": str(dataset_id)})
        assert progress["datasetProgress"] == {"total": 3, "completed": 1, "responses": {"submitted": 1}}
        statuses = (await gql(PAGE, {"id": str(dataset_id), "first": 3}))["records"]["edges"]
        assert [edge["node"]["status"] for edge in statuses] == ["COMPLETED", "PENDING", "PENDING"]
        leased = await gql("mutation($id: ID!) { nextRecords(datasetId: $id, first: 5) { externalId } }",
                           {"id": str(dataset_id)})
        assert [r["externalId"] for r in leased["nextRecords"]] == ["o1", "o2"]
        await h.add_records(gql, str(dataset_id), [{"externalId": "new", "fields": {"prompt": "n"}}])
        assert await all_pages(gql, str(dataset_id), 10) == ["o0", "o1", "o2", "new"]
        fields = await gql("query($id: ID!) { records(datasetId: $id, first: 1) { edges { node { fields } } } }",
                           {"id": str(dataset_id)})
        assert fields["records"]["edges"][0]["node"]["fields"] == {"prompt": "old 0"}
    async with serve(settings, builtin_registry) as gql:  # a second start changes nothing
        assert await all_pages(gql, str(dataset_id), 10) == ["o0", "o1", "o2", "new"]


CONTENT_QUERY = """query($id: ID!) { records(datasetId: $id, first: 10) { edges { node {
  externalId fields metadata suggestions { question score agent value { ... on TextValue { text } } } } } } }"""


async def test_records_written_unpacked_by_layout_2_are_packed_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    """Layout 2 stored fields and suggestions as documents; layout 3 packs them into one string.
    Records written now are turned back into layout 2's form in the database, and the next start
    must pack them without changing what any client reads."""
    records = [{"externalId": f"r{i}", "fields": {"prompt": f"prompt {i} \u00e9\u4e2d"}, "metadata": {"n": i},
                "suggestions": [{"question": "completion", "value": {"text": f"suggested {i}"},
                                 "score": 0.25 * i, "agent": "model"}] if i % 2 else []}
               for i in range(4)]
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql)
        await h.add_records(gql, dataset_id, records)
        before = await gql(CONTENT_QUERY, {"id": dataset_id})
    db_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = db_client[settings.database_name]
    stored = await db["records"].find({"dataset_id": ObjectId(dataset_id)}).to_list()
    assert all(isinstance(doc["content"], str) and "fields" not in doc for doc in stored)
    for doc in stored:
        await db["records"].update_one({"_id": doc["_id"]},
                                       {"$set": json.loads(doc["content"]), "$unset": {"content": ""}})
    await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": 2}})

    async with serve(settings, builtin_registry) as gql:
        assert await gql(CONTENT_QUERY, {"id": dataset_id}) == before
        edges = before["records"]["edges"]
        assert [edge["node"]["fields"]["prompt"] for edge in edges] == [f"prompt {i} \u00e9\u4e2d" for i in range(4)]
        assert edges[1]["node"]["suggestions"][0]["value"] == {"text": "suggested 1"}
    migrated = await db["records"].find({"dataset_id": ObjectId(dataset_id)}).to_list()
    assert all(isinstance(doc["content"], str) and "fields" not in doc and "suggestions" not in doc
               for doc in migrated)
    assert (await db["meta"].find_one({"_id": "layout"}) or {})["version"] == LAYOUT_VERSION
    await db_client.close()


PROGRESS = """query($id: ID!) { datasetProgress(datasetId: $id) { total pending completed responses { submitted draft } }
  annotatorProgress(datasetId: $id) { username submitted draft discarded available } }"""


async def test_labelers_counters_kept_in_the_dataset_by_layout_3_move_out_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    """Layout 3 kept each labeler's counters in the dataset document (``tally.users``); layout 4
    keeps them in ``user_tallies``. Counters written now are put back in layout 3's place, and
    the next start must move them without changing any figure."""
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql)
        await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": "p"}} for i in range(5)])
        record_ids = [edge["node"]["id"] for edge in (await gql(PAGE, {"id": dataset_id, "first": 5}))["records"]["edges"]]
        labelers = [await h.new_user(gql, f"l{i}", workspaces=[await h.workspace_of(gql, dataset_id)]) for i in range(2)]
        for labeler, records, status in [(labelers[0], record_ids[:3], "SUBMITTED"), (labelers[1], record_ids[2:4], "DRAFT")]:
            for record_id in records:
                await labeler("""mutation($r: ID!, $s: ResponseStatus!) { submitResponse(input: {recordId: $r,
                  status: $s, values: [{question: "completion", value: {text: "t"}}]}) { id } }""", {"r": record_id, "s": status})
        before = await gql(PROGRESS, {"id": dataset_id})
    assert [row["submitted"] + row["draft"] for row in before["annotatorProgress"] if row["username"] != "owner"] == [3, 2]
    db_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = db_client[settings.database_name]
    users = {doc["user"]: {k: v for k, v in doc.items() if k not in ("_id", "dataset_id", "user")}
             async for doc in db["user_tallies"].find({"dataset_id": ObjectId(dataset_id)})}
    assert len(users) == 2
    await db["datasets"].update_one({"_id": ObjectId(dataset_id)}, {"$set": {"tally.users": users}})
    await db["user_tallies"].delete_many({})
    await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": 3}})

    async with serve(settings, builtin_registry) as gql:
        assert await gql(PROGRESS, {"id": dataset_id}) == before
    dataset = await db["datasets"].find_one({"_id": ObjectId(dataset_id)})
    assert dataset is not None
    assert "users" not in dataset["tally"]
    assert await db["user_tallies"].count_documents({"dataset_id": ObjectId(dataset_id)}) == 2
    await db_client.close()


async def test_a_stream_reads_ahead_in_order_and_stops_cleanly(gql: GraphQLClient) -> None:
    """Exports read the next bucket while one is encoded: every record once, in insertion order,
    and a consumer that stops early leaves no read behind."""
    dataset_id = await h.sft_dataset(gql)
    total = (READ_AHEAD + 1) * BUCKET_SIZE + 37
    for start in range(0, total, 200):
        await h.add_records(gql, dataset_id, [{"externalId": f"r{i:04}", "fields": {"prompt": f"p{i}"}}
                                              for i in range(start, min(total, start + 200))])
    storage: Any = gql.http._transport.app.state.storage  # type: ignore[attr-defined]
    streamed = [doc["external_id"] async for bucket in storage.records.stream(ObjectId(dataset_id), total)
                for doc in bucket]
    assert streamed == [f"r{i:04}" for i in range(total)]

    before = len(asyncio.all_tasks())
    stream = storage.records.stream(ObjectId(dataset_id), total)
    first = await anext(stream)
    assert len(asyncio.all_tasks()) == before + READ_AHEAD  # the next buckets, read ahead
    await stream.aclose()
    assert [doc["fields"]["prompt"] for doc in first][:2] == ["p0", "p1"]
    # The cancelled reads end as soon as PyMongo's own cancellation tasks have run: within a
    # few event-loop turns alone, up to seconds on a loaded machine (a CI run at load 10).
    for _ in range(200):
        if len(asyncio.all_tasks()) <= before:
            break
        await asyncio.sleep(0.05)
    assert len(asyncio.all_tasks()) == before
