"""Work distribution: the labeler queue with leases, record completion, progress, and many
labelers working one dataset at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from feedbackql_server.domain import queue
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient, serve

NEXT = "mutation($id: ID!, $n: Int!) { nextRecords(datasetId: $id, first: $n) { id externalId myLeaseExpiresAt } }"
PROGRESS = """query($id: ID!) { datasetProgress(datasetId: $id) { total pending completed minSubmitted
  overAnnotation responses { submitted draft discarded } } }"""
ANNOTATORS = """query($id: ID!) { annotatorProgress(datasetId: $id) { username submitted draft discarded available } }"""
DRAFTS = "query($id: ID!) { myDrafts(datasetId: $id) { totalCount edges { node { id } } } }"


def answer(record_id: str, status: str = "SUBMITTED") -> dict[str, Any]:
    return {"input": {"recordId": record_id, "status": status,
                      "values": [{"question": "completion", "value": {"text": "t"}}]}}


async def setup(gql: GraphQLClient, records: int, min_submitted: int, labelers: int) -> tuple[str, list[GraphQLClient]]:
    dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": min_submitted})
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i:03}", "fields": {"prompt": f"p{i}"}}
                                          for i in range(records)])
    ws = await h.workspace_of(gql, dataset_id)
    users = [await h.new_user(gql, f"labeler{i}", workspaces=[ws]) for i in range(labelers)]
    return dataset_id, users


async def next_ids(user: GraphQLClient, dataset_id: str, n: int = 1) -> list[str]:
    return [r["externalId"] for r in (await user(NEXT, {"id": dataset_id, "n": n}))["nextRecords"]]


async def test_leases_hand_distinct_records_and_never_more_than_still_needed(gql: GraphQLClient) -> None:
    dataset_id, (ann, bob, cyd) = await setup(gql, records=3, min_submitted=2, labelers=3)
    assert await next_ids(ann, dataset_id, 2) == ["r000", "r001"]
    # Asking again hands back the same leased records: a page reload loses nothing.
    assert await next_ids(ann, dataset_id, 2) == ["r000", "r001"]
    assert await next_ids(bob, dataset_id, 3) == ["r000", "r001", "r002"]
    # r000 and r001 need two answers and have two leases; only r002 has room for cyd.
    assert await next_ids(cyd, dataset_id, 3) == ["r002"]
    leased = (await ann(NEXT, {"id": dataset_id, "n": 1}))["nextRecords"][0]
    assert leased["myLeaseExpiresAt"] is not None


async def test_records_closest_to_completion_come_first(gql: GraphQLClient) -> None:
    dataset_id, (ann, bob) = await setup(gql, records=3, min_submitted=2, labelers=2)
    records = {e["node"]["externalId"]: e["node"]["id"] for e in
               (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]["edges"]}
    await ann(h.SUBMIT, answer(records["r002"]))
    assert await next_ids(bob, dataset_id, 3) == ["r002", "r000", "r001"]


async def test_submitting_or_discarding_ends_the_lease_and_drafts_keep_it(gql: GraphQLClient) -> None:
    dataset_id, (ann, bob) = await setup(gql, records=3, min_submitted=1, labelers=2)
    first, second, third = [r["id"] for r in (await ann(NEXT, {"id": dataset_id, "n": 3}))["nextRecords"]]
    assert await next_ids(bob, dataset_id, 3) == []
    await ann(h.SUBMIT, answer(first))          # completes it: nobody needs it any more
    await ann(h.SUBMIT, answer(second, "DISCARDED"))  # room again for someone else
    await ann(h.SUBMIT, answer(third, "DRAFT"))
    assert await next_ids(bob, dataset_id, 3) == ["r001"]
    drafts = (await ann(DRAFTS, {"id": dataset_id}))["myDrafts"]
    assert drafts["totalCount"] == 1
    assert drafts["edges"][0]["node"]["id"] == third
    # Answered records never come back to the one who answered them.
    assert await next_ids(ann, dataset_id, 3) == []


async def test_expired_leases_return_records_to_the_pool(
    gql: GraphQLClient, settings: Settings, builtin_registry: KindRegistry,
) -> None:
    dataset_id, (ann, bob) = await setup(gql, records=1, min_submitted=1, labelers=2)
    async with serve(settings.model_copy(update={"lease_seconds": 0.3}), builtin_registry) as short:
        assert await next_ids(short.as_user(ann.api_key), dataset_id) == ["r000"]
        assert await next_ids(short.as_user(bob.api_key), dataset_id) == []
        await asyncio.sleep(0.4)
        assert await next_ids(short.as_user(bob.api_key), dataset_id) == ["r000"]


async def test_an_old_pool_is_read_again_without_making_the_labeler_wait(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past its age the pool is read again in the background: the caller goes on with the pool
    it has (leases are checked record by record), so a read never sits on a labeler's path."""
    dataset_id, (ann, bob) = await setup(gql, records=3, min_submitted=1, labelers=2)
    assert await next_ids(ann, dataset_id) == ["r000"]
    pools = gql.http._transport.app.state.services.queue_pools  # type: ignore[attr-defined]
    pool = next(iter(pools.pools.values()))
    monkeypatch.setattr(queue, "POOL_SECONDS", 0.0)
    async with pool.lock:  # a read of the pool that has not finished
        assert await asyncio.wait_for(next_ids(bob, dataset_id), 10) == ["r001"]
    for _ in range(100):  # the background read it started runs once the lock is free
        if not pools._refreshing:
            break
        await asyncio.sleep(0.05)
    assert not pools._refreshing
    assert await next_ids(bob, dataset_id) == ["r001"]  # still bob's, from the new pool


async def test_statuses_follow_responses_and_progress_counts_them(gql: GraphQLClient) -> None:
    dataset_id, (ann, bob, cyd) = await setup(gql, records=2, min_submitted=2, labelers=3)
    edges = (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]["edges"]
    first, second = (e["node"]["id"] for e in edges)
    for user in (ann, bob, cyd):
        await user(h.SUBMIT, answer(first))
    await ann(h.SUBMIT, answer(second, "DRAFT"))
    await bob(h.SUBMIT, answer(second, "DISCARDED"))
    progress = (await gql(PROGRESS, {"id": dataset_id}))["datasetProgress"]
    assert progress == {"total": 2, "pending": 1, "completed": 1, "minSubmitted": 2, "overAnnotation": 1,
                        "responses": {"submitted": 3, "draft": 1, "discarded": 1}}
    # Deleting an answer moves the record back to pending... and minSubmitted changes recount.
    await ann("mutation($id: ID!) { deleteResponse(recordId: $id) }", {"id": first})
    await bob(h.SUBMIT, answer(first, "DRAFT"))
    assert (await gql(PROGRESS, {"id": dataset_id}))["datasetProgress"]["completed"] == 0
    await gql("mutation($id: ID!) { updateDataset(id: $id, input: {distribution: {minSubmitted: 1}}) { id } }",
              {"id": dataset_id})
    progress = (await gql(PROGRESS, {"id": dataset_id}))["datasetProgress"]
    assert (progress["completed"], progress["overAnnotation"]) == (1, 0)

    rows = {r["username"]: r for r in (await gql(ANNOTATORS, {"id": dataset_id}))["annotatorProgress"]}
    assert rows["labeler0"] == {"username": "labeler0", "submitted": 0, "draft": 1, "discarded": 0, "available": 0}
    assert rows["labeler1"] == {"username": "labeler1", "submitted": 0, "draft": 1, "discarded": 1, "available": 0}
    assert rows["labeler2"] == {"username": "labeler2", "submitted": 1, "draft": 0, "discarded": 0, "available": 1}
    mine = (await cyd(ANNOTATORS, {"id": dataset_id}))["annotatorProgress"]
    assert [r["username"] for r in mine] == ["labeler2"]


async def test_fifty_labelers_finish_a_dataset_with_exactly_the_answers_needed(
    gql: GraphQLClient, database_name: str, mongodb_uri: str,
) -> None:
    records, min_submitted = 60, 2
    dataset_id, labelers = await setup(gql, records=records, min_submitted=min_submitted, labelers=50)
    answered: dict[str, list[str]] = {}

    async def work(user: GraphQLClient) -> None:
        mine = answered.setdefault(user.api_key or "", [])
        while True:
            batch = (await user(NEXT, {"id": dataset_id, "n": 1}))["nextRecords"]
            if not batch:
                return
            await user(h.SUBMIT, answer(batch[0]["id"]))
            mine.append(batch[0]["id"])

    await asyncio.gather(*(work(user) for user in labelers))

    for ids in answered.values():
        assert len(ids) == len(set(ids)), "a labeler answered a record twice"
    assert sum(len(ids) for ids in answered.values()) == records * min_submitted
    progress = (await gql(PROGRESS, {"id": dataset_id}))["datasetProgress"]
    assert progress == {"total": records, "pending": 0, "completed": records, "minSubmitted": 2,
                        "overAnnotation": 0, "responses": {"submitted": 120, "draft": 0, "discarded": 0}}
    # The records' stored state agrees with a recount from the responses themselves.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    db = client[database_name]
    by_record: dict[Any, set[str]] = {}
    async for response in db.responses.find({"status": "submitted"}):
        by_record.setdefault(response["record_id"], set()).add(str(response["user_id"]))
    async for record in db.records.find():
        assert set(record["submitted_by"]) == by_record[record["_id"]]
        assert record["submitted_count"] == len(by_record[record["_id"]]) == min_submitted
        assert record["status"] == "completed"
    await client.close()


@pytest.mark.parametrize("first", [0, 101])
async def test_next_records_asks_for_a_sane_number(gql: GraphQLClient, first: int) -> None:
    dataset_id, _ = await setup(gql, records=1, min_submitted=1, labelers=0)
    error = await gql.error(NEXT, {"id": dataset_id, "n": first})
    assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["first"])


async def test_the_home_screen_is_one_query(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(3)])
    annotator = await h.new_user(gql, "ann", workspaces=[await h.workspace_of(gql, dataset_id)])
    (record,) = (await annotator("mutation($id: ID!) { nextRecords(datasetId: $id) { id } }", {"id": dataset_id}))["nextRecords"]
    await annotator(h.SUBMIT, {"input": {"recordId": record["id"], "status": "SUBMITTED",
                                         "values": [{"question": "completion", "value": {"text": "t"}}]}})
    home = await annotator("""{ workspaces { datasets { name progress { total completed pending }
      myProgress { username submitted draft available } } } }""")
    assert home == {"workspaces": [{"datasets": [{"name": "sft",
        "progress": {"total": 3, "completed": 1, "pending": 2},
        "myProgress": {"username": "ann", "submitted": 1, "draft": 0, "available": 2}}]}]}


async def test_skipping_gives_a_record_back_at_once(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "only one"}}])
    ws = await h.workspace_of(gql, dataset_id)
    first, second = [await h.new_user(gql, name, workspaces=[ws]) for name in ("first", "second")]
    nxt = "mutation($id: ID!) { nextRecords(datasetId: $id) { id } }"
    (held,) = (await first(nxt, {"id": dataset_id}))["nextRecords"]
    assert (await second(nxt, {"id": dataset_id}))["nextRecords"] == []
    release = "mutation($r: ID!) { releaseRecord(recordId: $r) }"
    assert await first(release, {"r": held["id"]}) == {"releaseRecord": True}
    assert await first(release, {"r": held["id"]}) == {"releaseRecord": False}  # nothing held any more
    assert (await second(nxt, {"id": dataset_id}))["nextRecords"] == [held]


SKIP = "mutation($r: ID!, $m: Int) { releaseRecord(recordId: $r, skipMinutes: $m) }"


async def test_a_skipped_record_goes_to_the_end_of_my_queue_until_the_skip_ends(gql: GraphQLClient) -> None:
    dataset_id, (ann, bob) = await setup(gql, records=3, min_submitted=2, labelers=2)
    ids = {e["node"]["externalId"]: e["node"]["id"] for e in
           (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]["edges"]}
    assert await next_ids(ann, dataset_id) == ["r000"]
    assert await ann(SKIP, {"r": ids["r000"], "m": 10}) == {"releaseRecord": True}
    # The skip is ann's alone: bob is offered r000 first, as before.
    assert await next_ids(bob, dataset_id) == ["r000"]
    # For ann, not straight back: the others first, one after another as they are answered.
    assert await next_ids(ann, dataset_id) == ["r001"]
    await ann(h.SUBMIT, answer(ids["r001"]))
    assert await next_ids(ann, dataset_id) == ["r002"]
    await ann(h.SUBMIT, answer(ids["r002"]))
    # Nothing else is open to ann: the skipped record rather than nothing.
    assert await next_ids(ann, dataset_id) == ["r000"]


@pytest.mark.parametrize("minutes", [0, -1, 1441])
async def test_a_skip_lasts_a_sane_time(gql: GraphQLClient, minutes: int) -> None:
    dataset_id, (ann,) = await setup(gql, records=1, min_submitted=1, labelers=1)
    (held,) = (await ann(NEXT, {"id": dataset_id, "n": 1}))["nextRecords"]
    error = await ann.error(SKIP, {"r": held["id"], "m": minutes})
    assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["skipMinutes"])


async def test_annotators_filter_only_on_their_own_responses(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": "p"}} for i in range(3)])
    ids = [e["node"]["id"] for e in (await gql(h.RECORDS, {"id": dataset_id, "first": 3}))["records"]["edges"]]
    ws = await h.workspace_of(gql, dataset_id)
    anna, bob = [await h.new_user(gql, name, workspaces=[ws]) for name in ("anna", "bob")]
    answer = {"question": "completion", "value": {"text": "t"}}
    await anna(h.SUBMIT, {"input": {"recordId": ids[0], "status": "SUBMITTED", "values": [answer]}})
    await bob(h.SUBMIT, {"input": {"recordId": ids[1], "status": "DRAFT", "values": [answer]}})

    async def external_ids(who: GraphQLClient, where: dict[str, Any]) -> list[str]:
        page = await who(h.RECORDS, {"id": dataset_id, "first": 10, "filter": where})
        return [e["node"]["externalId"] for e in page["records"]["edges"]]

    assert await external_ids(anna, {"myResponseStatus": ["SUBMITTED", "DRAFT"]}) == ["r0"]
    assert await external_ids(bob, {"myResponseStatus": ["DRAFT"]}) == ["r1"]
    # responseStatus no longer tells an annotator which records others worked on.
    assert await external_ids(anna, {"responseStatus": ["DRAFT"]}) == []
    assert await external_ids(gql, {"responseStatus": ["DRAFT", "SUBMITTED"]}) == ["r0", "r1"]
