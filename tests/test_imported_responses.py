"""Records may bring their answers: checked like any answer, counted like any answer."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.test_readd import ADD, RATED
from tests.test_readd import _counters_match_a_recount as counters_match_a_recount

RECORDS = """query($id: ID!) { records(datasetId: $id, first: 10) { edges { node { externalId status
  responses { user { username } status values { question json } } } } } }"""


def _answer(user: str, rating: int, status: str = "SUBMITTED") -> dict[str, Any]:
    return {"user": user, "status": status, "values": [{"question": "quality", "value": {"rating": rating}}]}


async def _set_up(gql: GraphQLClient, min_submitted: int = 2) -> tuple[str, str]:
    workspace = await h.workspace(gql)
    dataset_id = str((await h.dataset(gql, workspace, distribution={"minSubmitted": min_submitted}, **RATED))["id"])
    for name in ("ann", "bob"):
        await h.new_user(gql, name, workspaces=[workspace])
    return workspace, dataset_id


async def _add(gql: GraphQLClient, dataset_id: str, records: list[dict[str, Any]]) -> Any:
    return (await gql(ADD, {"id": dataset_id, "records": records}))["addRecords"]


async def test_imported_answers_count_in_status_progress_and_per_labeler_counters(gql: GraphQLClient) -> None:
    _, dataset_id = await _set_up(gql)
    records = [
        {"externalId": "a", "fields": {"prompt": "p"}, "responses": [_answer("ann", 5), _answer("bob", 4)]},
        {"externalId": "b", "fields": {"prompt": "q"}, "responses": [_answer("ann", 2, "DRAFT")]},
        {"externalId": "c", "fields": {"prompt": "r"}},
    ]
    report = await _add(gql, dataset_id, records)
    assert (report["created"], report["responses"], report["errors"]) == (3, 3, [])
    nodes = {n["node"]["externalId"]: n["node"] for n in (await gql(RECORDS, {"id": dataset_id}))["records"]["edges"]}
    assert nodes["a"]["status"] == "COMPLETED"
    assert sorted((r["user"]["username"], r["values"][0]["json"]) for r in nodes["a"]["responses"]) == [
        ("ann", 5), ("bob", 4)]
    assert [(r["user"]["username"], r["status"]) for r in nodes["b"]["responses"]] == [("ann", "DRAFT")]
    progress = await counters_match_a_recount(gql, dataset_id)
    assert progress["datasetProgress"]["completed"] == 1
    assert progress["datasetProgress"]["responses"] == {"submitted": 2, "draft": 1, "discarded": 0}
    by_user = {row["username"]: row for row in progress["annotatorProgress"]}
    assert (by_user["ann"]["submitted"], by_user["ann"]["draft"], by_user["bob"]["submitted"]) == (1, 1, 1)
    # The same records again change nothing: no answer is written twice.
    again = await _add(gql, dataset_id, records)
    assert (again["unchanged"], again["responses"], again["errors"]) == (3, 0, [])
    assert await counters_match_a_recount(gql, dataset_id) == progress


async def test_bad_answers_refuse_their_record_with_paths_and_write_nothing(gql: GraphQLClient) -> None:
    _, dataset_id = await _set_up(gql)
    await h.new_user(gql, "outsider")  # in no workspace
    records = [
        {"externalId": "a", "fields": {"prompt": "p"}, "responses": [_answer("ann", 9)]},
        {"externalId": "b", "fields": {"prompt": "p"}, "responses": [_answer("nobody", 3)]},
        {"externalId": "c", "fields": {"prompt": "p"}, "responses": [_answer("outsider", 3)]},
        {"externalId": "d", "fields": {"prompt": "p"}, "responses": [_answer("ann", 3), _answer("ann", 4)]},
        {"externalId": "e", "fields": {"prompt": "p"}, "responses": [{"user": "bob", "status": "SUBMITTED"}]},
    ]
    report = await _add(gql, dataset_id, records)
    assert (report["created"], report["refused"], report["responses"]) == (0, 5, 0)
    problems = {e["index"]: e["problems"][0] for e in report["errors"]}
    assert problems[0]["path"][:4] == ["responses", 0, "values", 0]
    assert (problems[1]["reason"], problems[2]["reason"], problems[3]["reason"]) == (
        "unknown_user", "not_a_member", "duplicate")
    assert problems[4]["reason"] == "required"
    assert all(e["code"] == "VALIDATION" for e in report["errors"])
    assert (await gql(RECORDS, {"id": dataset_id}))["records"]["edges"] == []


async def test_only_owners_and_admins_bring_answers_in(gql: GraphQLClient) -> None:
    workspace, dataset_id = await _set_up(gql)
    labeler = await h.new_user(gql, "labeler", workspaces=[workspace])
    record = {"fields": {"prompt": "p"}, "responses": [_answer("labeler", 3)]}
    error = await labeler.error(ADD, {"id": dataset_id, "records": [record]})
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_the_upload_takes_answers_too(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    _, dataset_id = await _set_up(gql, min_submitted=1)
    lines = [{"externalId": "a", "fields": {"prompt": "p"}, "responses": [_answer("bob", 1, "submitted")]},
             {"externalId": "b", "fields": {"prompt": "p"}, "responses": [{"user": "bob", "status": 3}]}]
    response = await http.post(f"/datasets/{dataset_id}/records", content="\n".join(map(json.dumps, lines)),
                               headers={"Authorization": f"Bearer {OWNER_KEY}"})
    body = response.json()
    assert (body["created"], body["responses"], [e["index"] for e in body["errors"]]) == (1, 1, [1])
    (node,) = [n["node"] for n in (await gql(RECORDS, {"id": dataset_id}))["records"]["edges"]]
    assert node["status"] == "COMPLETED"
