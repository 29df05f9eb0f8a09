"""The reproductions of issue 20's "changing minSubmitted while people label corrupts
records": admin actions racing labelers leave every record, counter and response in step."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from bson import ObjectId

from feedbackql_server.app import create_app
from feedbackql_server.domain.queue import QueuePools
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.storage.paths import MONGODB
from tests import helpers as h
from tests import interleavings as il
from tests.conftest import OWNER_KEY, GraphQLClient, serve

RECORDS = 60
LABELERS = 8


async def _dataset(gql: GraphQLClient, min_submitted: int) -> tuple[str, list[GraphQLClient]]:
    dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": min_submitted})
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}}
                                          for i in range(RECORDS)])
    return dataset_id, await il.labelers(gql, dataset_id, LABELERS)


async def _while_labelling(gql: GraphQLClient, dataset_id: str, users: list[GraphQLClient],
                           admin: Any) -> il.Outcomes:
    """Run the labelers while ``admin()`` acts, then stop them."""
    stop, outcomes = asyncio.Event(), il.Outcomes()
    workers = [asyncio.ensure_future(il.label(user, dataset_id, stop, outcomes)) for user in users]
    try:
        await admin()
    finally:
        stop.set()
        await asyncio.gather(*workers)
    return outcomes


async def _in_step(settings: Settings, dataset_id: str, outcomes: il.Outcomes) -> None:
    async with il.raw_database(settings) as db:
        assert await il.recount_problems(db, ObjectId(dataset_id)) == []
        stored = {(str(r["record_id"]), r["values"]["completion"]["value"])
                  async for r in db.responses.find({"dataset_id": ObjectId(dataset_id), "status": "submitted"})}
    assert set(outcomes.acknowledged) <= stored, "an acknowledged answer is missing"
    assert await il.checker_findings(settings) == []


async def test_flipping_min_submitted_while_labelers_submit_keeps_records_in_step(
    gql: GraphQLClient, settings: Settings
) -> None:
    dataset_id, users = await _dataset(gql, 1)

    async def flip() -> None:
        for flip in range(30):
            await gql(il.UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 1 + flip % 2}}})
            await asyncio.sleep(0.05)
        await gql(il.UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 2}}})

    outcomes = await _while_labelling(gql, dataset_id, users, flip)
    assert outcomes.acknowledged
    assert not outcomes.codes, outcomes.codes
    await _in_step(settings, dataset_id, outcomes)


async def test_the_compare_and_set_path_keeps_records_in_step_too(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    """MongoDB's path (compare-and-set on every state write, which replicas rely on) forced on
    against the embedded server, under the same flips."""
    app = create_app(settings, builtin_registry)
    async with app.router.lifespan_context(app):
        app.state.services.storage.use(MONGODB)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            gql = GraphQLClient(http, OWNER_KEY)
            dataset_id, users = await _dataset(gql, 1)

            async def flip() -> None:
                for flip in range(20):
                    await gql(il.UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 2 - flip % 2}}})
                    await asyncio.sleep(0.05)

            outcomes = await _while_labelling(gql, dataset_id, users, flip)
    assert not outcomes.codes, outcomes.codes
    await _in_step(settings, dataset_id, outcomes)


async def test_raising_min_submitted_never_hands_a_record_to_someone_who_answered_it(
    gql: GraphQLClient, settings: Settings
) -> None:
    dataset_id, users = await _dataset(gql, 2)

    async def raise_it() -> None:
        await asyncio.sleep(1.0)
        await gql(il.UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 3}}})
        await asyncio.sleep(1.0)

    outcomes = await _while_labelling(gql, dataset_id, users, raise_it)
    # Each labeler submits each record at most once: a record handed back would be answered
    # again, and the acknowledged (record, labeler) pairs would repeat.
    assert len(outcomes.acknowledged) == len(set(outcomes.acknowledged))
    await _in_step(settings, dataset_id, outcomes)


async def test_editing_guidelines_and_metadata_while_labelers_submit_keeps_counters(
    gql: GraphQLClient, settings: Settings
) -> None:
    dataset_id, users = await _dataset(gql, 1)

    async def edit() -> None:
        for number in range(40):
            await gql(il.UPDATE, {"id": dataset_id, "input": {
                "guidelines": f"rules, version {number}",
                "metadataProperties": [{"name": "source", "kind": "TERMS" if number % 2 else "INTEGER"}]}})
            await asyncio.sleep(0.02)

    outcomes = await _while_labelling(gql, dataset_id, users, edit)
    assert outcomes.acknowledged
    assert not outcomes.codes, outcomes.codes
    await _in_step(settings, dataset_id, outcomes)


async def test_deleting_a_dataset_while_labelers_submit_leaves_nothing_of_it(
    gql: GraphQLClient, settings: Settings
) -> None:
    dataset_id, users = await _dataset(gql, 2)

    async def delete() -> None:
        await asyncio.sleep(1.0)
        await gql(il.DELETE_DATASET, {"id": dataset_id})
        await asyncio.sleep(0.5)  # labelers still answering what they were handed

    outcomes = await _while_labelling(gql, dataset_id, users, delete)
    assert set(outcomes.codes) <= il.EXPECTED_CODES, outcomes.codes
    async with il.raw_database(settings) as db:
        assert await il.leftovers(db, ObjectId(dataset_id)) == {"records": 0, "responses": 0, "user_tallies": 0}
        assert await db.intents.count_documents({}) == 0
    assert await il.checker_findings(settings) == []


async def test_deleting_records_while_labelers_submit_keeps_counters_and_leaves_no_response(
    gql: GraphQLClient, settings: Settings
) -> None:
    dataset_id, users = await _dataset(gql, 2)
    page = await gql(h.RECORDS, {"id": dataset_id, "first": RECORDS})
    ids = [edge["node"]["id"] for edge in page["records"]["edges"]]

    async def delete() -> None:
        for start in range(0, RECORDS // 2, 5):
            await asyncio.sleep(0.2)
            await gql("mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }",
                      {"d": dataset_id, "ids": ids[start:start + 5]})

    outcomes = await _while_labelling(gql, dataset_id, users, delete)
    assert set(outcomes.codes) <= il.EXPECTED_CODES, outcomes.codes
    async with il.raw_database(settings) as db:
        assert await il.recount_problems(db, ObjectId(dataset_id)) == []
    assert await il.checker_findings(settings) == []


async def test_a_conflict_leaves_no_intent_and_a_clean_restart_repairs_nothing(
    settings: Settings, builtin_registry: KindRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql)
        await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
        record_id = (await gql(h.RECORDS, {"id": dataset_id, "first": 1}))["records"]["edges"][0]["node"]["id"]
        await gql(h.SUBMIT, il.answer(record_id))
        stale = il.answer(record_id)
        stale["input"]["expectedVersion"] = 7
        assert (await gql.error(h.SUBMIT, stale))["extensions"]["code"] == "CONFLICT"
        unknown = await gql.error("mutation($r: ID!) { deleteResponse(recordId: $r) }",
                                  {"r": str(ObjectId())})
        assert unknown["extensions"]["code"] == "NOT_FOUND"
    async with il.raw_database(settings) as db:
        assert await db.intents.count_documents({}) == 0
    with caplog.at_level(logging.WARNING, logger="feedbackql_server"):
        async with serve(settings, builtin_registry):
            pass
    assert not [r for r in caplog.records if "crash" in r.getMessage()]


def test_the_pools_are_bounded() -> None:
    pools = QueuePools(limit=2)
    ids = [ObjectId() for _ in range(3)]
    for dataset_id in ids:
        pools._pool(dataset_id)
    assert list(pools.pools) == ids[1:]


async def test_a_deletion_cut_short_by_a_crash_is_finished_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await h.sft_dataset(gql)
        await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    async with il.raw_database(settings) as db:  # what a kill after the mark leaves
        await db.datasets.update_one({"_id": ObjectId(dataset_id)}, {"$set": {"deleting": True}})
    async with serve(settings, builtin_registry):
        pass
    async with il.raw_database(settings) as db:
        assert await db.datasets.count_documents({"_id": ObjectId(dataset_id)}) == 0
        assert await il.leftovers(db, ObjectId(dataset_id)) == {"records": 0, "responses": 0, "user_tallies": 0}
