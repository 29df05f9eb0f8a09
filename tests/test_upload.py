"""POST /datasets/{id}/records: bulk loads as JSON lines, through the same ingest and policy."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient

RATED = {"questions": [{"name": "quality", "settings": {"rating": {"values": [1, 2, 3, 4, 5]}}}],
         "fields": [{"name": "prompt", "settings": h.TEXT}]}


def _lines(*records: Any) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else json.dumps(r).encode() for r in records)


async def _upload(http: httpx.AsyncClient, dataset_id: str, body: bytes, key: str | None = OWNER_KEY) -> httpx.Response:
    headers = {"Content-Type": "application/x-ndjson"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return await http.post(f"/datasets/{dataset_id}/records", content=body, headers=headers)


async def _rated_dataset(gql: GraphQLClient) -> str:
    return str((await h.dataset(gql, await h.workspace(gql), **RATED))["id"])


async def test_lines_are_ingested_and_bad_ones_reported_by_line(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    dataset_id = await _rated_dataset(gql)
    body = _lines(
        {"fields": {"prompt": "one"}, "externalId": "a",
         "suggestions": [{"question": "quality", "value": {"rating": 4}, "score": 0.9, "agent": "m"}]},
        b"{not json",
        {"fields": {"prompt": "three"}, "suggestions": [{"question": "quality", "value": {"rating": 9}}]},
        b"",
        {"fields": {"prompt": "five"}, "externalId": "b", "colour": "red"},
        {"fields": {"prompt": "six"}, "externalId": "c"},
    )
    response = await _upload(http, dataset_id, body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"]) == (2, 0)
    assert [(e["index"], e["code"]) for e in result["errors"]] == [(1, "VALIDATION"), (2, "VALIDATION"), (4, "VALIDATION")]
    assert "not JSON" in result["errors"][0]["message"]
    page = await gql("""query($id: ID!) { records(datasetId: $id, first: 10) { totalCount edges { node {
        externalId suggestions { agent score value { ... on RatingValue { rating } } } } } } }""", {"id": dataset_id})
    nodes = [e["node"] for e in page["records"]["edges"]]
    assert page["records"]["totalCount"] == 2
    assert nodes[0] == {"externalId": "a", "suggestions": [{"agent": "m", "score": 0.9, "value": {"rating": 4}}]}

    again = (await _upload(http, dataset_id, _lines({"fields": {"prompt": "one!"}, "externalId": "a"}))).json()
    assert (again["created"], again["updated"], again["errors"]) == (0, 1, [])


async def test_more_lines_than_one_batch_keep_their_line_numbers(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    dataset_id = await _rated_dataset(gql)
    records = [{"fields": {"prompt": f"p{i}"}, "externalId": f"e{i}"} for i in range(2300)]
    records[1500] = {"fields": {"prompt": 5}}  # a text field holds text
    result = (await _upload(http, dataset_id, _lines(*records))).json()
    assert (result["created"], [e["index"] for e in result["errors"]]) == (2299, [1500])


async def test_the_policy_applies(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    dataset_id = await _rated_dataset(gql)
    line = _lines({"fields": {"prompt": "x"}})
    assert (await _upload(http, dataset_id, line, key=None)).status_code == 401
    annotator = await h.new_user(gql, "ann", workspaces=[await h.workspace_of(gql, dataset_id)])
    refused = await _upload(http, dataset_id, line, key=annotator.api_key)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await _upload(http, "0" * 24, line)).status_code == 404
    draft = (await h.dataset(gql, await h.workspace(gql, "other"), publish=False, **RATED))["id"]
    conflict = await _upload(http, draft, line)
    assert (conflict.status_code, conflict.json()["errors"][0]["extensions"]["code"]) == (409, "CONFLICT")
    count = await gql("query($id: ID!) { records(datasetId: $id) { totalCount } }", {"id": dataset_id})
    assert count["records"]["totalCount"] == 0


async def test_a_rotated_key_or_an_oversized_anonymous_body_changes_nothing(
        gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    dataset_id = await _rated_dataset(gql)
    admin = await h.new_user(gql, "boss", role="ADMIN", workspaces=[await h.workspace_of(gql, dataset_id)])
    old_key = admin.api_key
    me = await admin("{ me { id } }")
    await gql("mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }", {"id": me["me"]["id"]})
    line = _lines({"fields": {"prompt": "x"}})
    rotated = await _upload(http, dataset_id, line, key=old_key)
    assert (rotated.status_code, rotated.json()["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")
    big = _lines(*[{"fields": {"prompt": "y" * 1000}} for _ in range(100)])  # over 64 KiB
    assert (await _upload(http, dataset_id, big, key="not-a-key")).status_code == 401
    count = await gql("query($id: ID!) { records(datasetId: $id) { totalCount } }", {"id": dataset_id})
    assert count["records"]["totalCount"] == 0


async def test_batches_are_written_in_line_order(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    """An upload longer than a batch is written in line order: a later line with the same
    external id wins, and records are listed in line order."""
    dataset_id = await _rated_dataset(gql)
    records = [{"fields": {"prompt": f"p{i}"}, "externalId": f"e{i}"} for i in range(2500)]
    records[10] = {"fields": {"prompt": "first"}, "externalId": "dup"}
    records[2200] = {"fields": {"prompt": "last"}, "externalId": "dup"}
    result = (await _upload(http, dataset_id, _lines(*records))).json()
    assert (result["created"], result["updated"], result["errors"]) == (2499, 1, [])
    listed: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql("""query($id: ID!, $after: String) { records(datasetId: $id, first: 1000, after: $after) {
            pageInfo { hasNextPage endCursor } edges { node { externalId fields } } } }""",
                          {"id": dataset_id, "after": after}))["records"]
        listed += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [node["externalId"] for node in listed] == [r["externalId"] for i, r in enumerate(records) if i != 2200]
    assert listed[10]["fields"] == {"prompt": "last"}
