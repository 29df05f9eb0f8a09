"""Response lifecycle, upsert idempotency, paging, filters, errors."""

from __future__ import annotations

import asyncio
from typing import Any

from tests import helpers as h
from tests.conftest import GraphQLClient

STATUS = "query($id: ID!) { record(id: $id) { status responses { status version user { username } } } }"


async def first_record(gql: GraphQLClient, dataset_id: str) -> str:
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 1})
    return str(page["records"]["edges"][0]["node"]["id"])


def answer(record_id: str, status: str = "SUBMITTED", text: str = "done", **extra: Any) -> dict[str, Any]:
    values = [{"question": "completion", "value": {"text": text}}] if text else []
    return {"input": {"recordId": record_id, "status": status, "values": values, **extra}}


async def test_one_response_per_user_later_submit_replaces(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": 1})
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    record_id = await first_record(gql, dataset_id)
    first = (await gql(h.SUBMIT, answer(record_id, "DRAFT", text="")))["submitResponse"]
    assert (await gql(STATUS, {"id": record_id}))["record"]["status"] == "PENDING"
    second = (await gql(h.SUBMIT, answer(record_id)))["submitResponse"]
    assert second["id"] == first["id"]
    assert second["version"] == first["version"] + 1
    record = (await gql(STATUS, {"id": record_id}))["record"]
    assert record["status"] == "COMPLETED"
    assert len(record["responses"]) == 1
    await gql(h.SUBMIT, answer(record_id, "DISCARDED", text=""))
    assert (await gql(STATUS, {"id": record_id}))["record"]["status"] == "PENDING"
    await gql(h.SUBMIT, answer(record_id))
    await gql("mutation($r: ID!) { deleteResponse(recordId: $r) }", {"r": record_id})
    assert (await gql(STATUS, {"id": record_id}))["record"] == {"status": "PENDING", "responses": []}
    error = await gql.error("mutation($r: ID!) { deleteResponse(recordId: $r) }", {"r": record_id})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_submitted_needs_required_answers(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    record_id = await first_record(gql, dataset_id)
    error = await gql.error(h.SUBMIT, answer(record_id, text=""))
    assert error["extensions"]["code"] == "VALIDATION"
    assert "required question" in error["message"]


async def test_expected_version_conflict(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    record_id = await first_record(gql, dataset_id)
    created = (await gql(h.SUBMIT, answer(record_id, expectedVersion=0)))["submitResponse"]
    error = await gql.error(h.SUBMIT, answer(record_id, expectedVersion=0))
    assert error["extensions"]["code"] == "CONFLICT"
    updated = (await gql(h.SUBMIT, answer(record_id, text="v2", expectedVersion=created["version"])))
    assert updated["submitResponse"]["values"][0]["value"]["text"] == "v2"
    error = await gql.error(h.SUBMIT, answer(record_id, expectedVersion=created["version"]))
    assert error["extensions"]["code"] == "CONFLICT"


async def test_concurrent_submits_converge_without_duplicates(gql: GraphQLClient) -> None:
    """Many users rewrite their responses to the same records at once; afterwards each
    record's status and its filterable response state match a recount of its responses."""
    dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": 3})
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(4)])
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 10})
    record_ids = [e["node"]["id"] for e in page["records"]["edges"]]
    ws = await h.workspace_of(gql, dataset_id)
    users = [await h.new_user(gql, f"user{i}", workspaces=[ws]) for i in range(5)]
    statuses = ["SUBMITTED", "DRAFT", "SUBMITTED", "DISCARDED", "SUBMITTED", "DRAFT"]
    await asyncio.gather(*(
        user(h.SUBMIT, answer(record_id, status, text="x" if status != "DISCARDED" else ""))
        for record_id in record_ids for user in users for status in statuses
    ))
    expected_by_status: dict[str, set[str]] = {"SUBMITTED": set(), "DRAFT": set(), "DISCARDED": set()}
    for record_id in record_ids:
        record = (await gql(STATUS, {"id": record_id}))["record"]
        assert sorted(r["user"]["username"] for r in record["responses"]) == [f"user{i}" for i in range(5)]
        submitted = sum(r["status"] == "SUBMITTED" for r in record["responses"])
        assert record["status"] == ("COMPLETED" if submitted >= 3 else "PENDING")
        for response in record["responses"]:
            expected_by_status[response["status"]].add(record_id)
    for status, expected in expected_by_status.items():
        found = await gql(h.RECORDS, {"id": dataset_id, "first": 10, "filter": {"responseStatus": [status]}})
        assert {e["node"]["id"] for e in found["records"]["edges"]} == expected, status


async def test_upsert_by_external_id_is_idempotent(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    batch = [{"externalId": f"e{i}", "fields": {"prompt": f"p{i}"}} for i in range(5)]
    assert await h.add_records(gql, dataset_id, batch) == {"created": 5, "updated": 0, "errors": []}
    again = await h.add_records(gql, dataset_id, [*batch[:4], {"externalId": "e4", "fields": {"prompt": "new"}}])
    assert again == {"created": 0, "updated": 1, "errors": []}  # the other four are unchanged
    page = (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]
    assert page["totalCount"] == 5
    assert page["edges"][4]["node"]["fields"] == {"prompt": "new"}
    dup = await h.add_records(gql, dataset_id, [{"externalId": "z", "fields": {"prompt": "a"}},
                                                {"externalId": "z", "fields": {"prompt": "b"}}])
    assert dup["created"] == 1
    assert [e["index"] for e in dup["errors"]] == [1]


async def test_paging_over_more_than_1000_records(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    for start in (0, 1000):
        batch = [{"externalId": f"r{i:05}", "fields": {"prompt": f"prompt {i}"}}
                 for i in range(start, start + (1000 if start == 0 else 250))]
        assert (await h.add_records(gql, dataset_id, batch))["created"] == len(batch)
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(h.RECORDS, {"id": dataset_id, "first": 400, "after": after}))["records"]
        assert page["totalCount"] == 1250
        seen += [e["node"]["externalId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"r{i:05}" for i in range(1250)]
    backwards = (await gql(h.RECORDS, {"id": dataset_id, "first": 3, "sort": {"direction": "DESC"}}))
    assert [e["node"]["externalId"] for e in backwards["records"]["edges"]] == ["r01249", "r01248", "r01247"]
    error = await gql.error(h.RECORDS, {"id": dataset_id, "first": 1001})
    assert error["extensions"]["code"] == "VALIDATION"
    error = await gql.error(h.RECORDS, {"id": dataset_id, "first": 1, "after": "garbage"})
    assert error["extensions"]["code"] == "VALIDATION"


async def test_sort_by_update_pages_without_gaps(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"externalId": f"e{i}", "fields": {"prompt": "p"}} for i in range(7)])
    await h.add_records(gql, dataset_id, [{"externalId": "e2", "fields": {"prompt": "changed"}}])
    sort = {"field": "UPDATED_AT", "direction": "DESC"}
    seen, after = [], None
    while True:
        page = (await gql(h.RECORDS, {"id": dataset_id, "first": 3, "after": after, "sort": sort}))["records"]
        seen += [e["node"]["externalId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen[0] == "e2"
    assert sorted(seen) == [f"e{i}" for i in range(7)]
    error = await gql.error(h.RECORDS, {"id": dataset_id, "first": 3, "after": after})
    assert "another sort order" in error["message"]


async def test_filters(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, metadataProperties=[
        {"name": "source", "kind": "TERMS"}, {"name": "length", "kind": "INTEGER"}])
    await h.add_records(gql, dataset_id, [
        {"externalId": "a", "fields": {"prompt": "Explain Python generators"},
         "metadata": {"source": "web", "length": 5}},
        {"externalId": "b", "fields": {"prompt": "Write a poem"}, "metadata": {"source": "book", "length": 50}},
        {"externalId": "c", "fields": {"prompt": "python (a.*) regex chars"}, "metadata": {"source": "web", "length": 500}},
    ])

    async def ids(where: dict[str, Any]) -> list[str]:
        page = await gql(h.RECORDS, {"id": dataset_id, "first": 10, "filter": where})
        return [e["node"]["externalId"] for e in page["records"]["edges"]]

    assert await ids({"text": "PYTHON"}) == ["a", "c"]
    # Whole words, all of them, any order; punctuation only separates words.
    assert await ids({"text": "generators python"}) == ["a"]
    assert await ids({"text": "(regex.*)"}) == ["c"]
    assert await ids({"text": "pyth"}) == []
    assert await ids({"metadata": [{"name": "source", "values": ["web"]}]}) == ["a", "c"]
    assert await ids({"metadata": [{"name": "length", "ge": 10, "le": 100}]}) == ["b"]
    assert await ids({"externalIds": ["b", "c", "zzz"]}) == ["b", "c"]
    record_id = (await gql(h.RECORDS, {"id": dataset_id, "first": 1}))["records"]["edges"][0]["node"]["id"]
    await gql(h.SUBMIT, answer(record_id, "DRAFT"))
    assert await ids({"responseStatus": ["DRAFT"]}) == ["a"]
    assert await ids({"responseStatus": ["SUBMITTED"]}) == []
    assert await ids({"status": "PENDING"}) == ["a", "b", "c"]
    await gql(h.SUBMIT, answer(record_id))
    assert await ids({"status": "COMPLETED"}) == ["a"]


async def test_delete_records_and_dataset(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}, {"fields": {"prompt": "q"}}])
    record_id = await first_record(gql, dataset_id)
    await gql(h.SUBMIT, answer(record_id))
    delete = "mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }"
    error = await gql.error(delete, {"d": dataset_id, "ids": [record_id, "not-an-id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await gql(STATUS, {"id": record_id}))["record"]["status"] == "COMPLETED"
    deleted = await gql(delete, {"d": dataset_id, "ids": [record_id]})
    assert deleted["deleteRecords"]["deleted"] == 1
    error = await gql.error(STATUS, {"id": record_id})
    assert error["extensions"]["code"] == "NOT_FOUND"
    await gql("mutation($id: ID!) { deleteDataset(id: $id) }", {"id": dataset_id})
    error = await gql.error("query($id: ID!) { dataset(id: $id) { id } }", {"id": dataset_id})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_authentication_is_required(gql: GraphQLClient) -> None:
    for key in (None, "wrong-key"):
        error = await gql.as_user(key).error("{ me { id } }")
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        error = await gql.as_user(key).error("mutation { createWorkspace(name: \"x\") { id } }")
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql("{ workspaces { id } }")) == {"workspaces": []}


async def test_limits_and_unknown_ids(gql: GraphQLClient) -> None:
    deep = "{ me " + "{ __typename " * 0 + "{ id } }"
    assert (await gql.raw(deep))["data"]["me"]["id"]
    nested = "query { records(datasetId: \"x\") { edges { node { dataset { workspace { datasets { workspace { datasets { workspace { datasets { workspace { datasets { workspace { datasets { id } } } } } } } } } } } } } } }"
    error = await gql.error(nested)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION"
    assert "depth" in error["message"]
    aliases = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    assert (await gql.error(aliases))["extensions"]["code"] == "GRAPHQL_VALIDATION"
    for op in ("query { dataset(id: \"nope\") { id } }", "query { record(id: \"0123456789ab0123456789ab\") { id } }"):
        assert (await gql.error(op))["extensions"]["code"] == "NOT_FOUND"


async def test_resending_a_thousand_known_records_works_every_time(gql: GraphQLClient) -> None:
    """Re-import is idempotent at full batch size: an update command of many statements froze
    FerretDB for good (150 known records did); the database must keep answering after it."""
    dataset_id = await h.sft_dataset(gql)
    batch = [{"externalId": f"e{i}", "fields": {"prompt": f"p{i}"}} for i in range(1000)]
    assert await h.add_records(gql, dataset_id, batch) == {"created": 1000, "updated": 0, "errors": []}
    for round_number in range(2):
        changed = [{**record, "fields": {"prompt": f"round {round_number}"}} for record in batch]
        assert await h.add_records(gql, dataset_id, changed) == {"created": 0, "updated": 1000, "errors": []}
    mixed = [*batch[:500], *({"externalId": f"new{i}", "fields": {"prompt": "n"}} for i in range(500))]
    assert await h.add_records(gql, dataset_id, mixed) == {"created": 500, "updated": 500, "errors": []}
    page = (await gql(h.RECORDS, {"id": dataset_id, "first": 1000}))["records"]
    assert page["totalCount"] == 1500
    assert page["edges"][999]["node"]["fields"] == {"prompt": "round 1"}
    assert page["edges"][0]["node"]["fields"] == {"prompt": "p0"}
