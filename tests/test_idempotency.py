"""``Idempotency-Key``: a keyed mutation or upload is done once, its retries get the first
answer (also after a restart of the service), and the key cannot name another request."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from feedbackql_server.domain import idempotency
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.helpers import ADD_RECORDS, CREATE_DATASET, CREATE_WORKSPACE, PUBLISH, new_user, sft_dataset
from tests.served import KEY, service

COUNT = "query($id: ID!) { records(datasetId: $id, first: 1) { totalCount } }"


def body(query: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


async def post(http: httpx.AsyncClient, content: bytes, key: str | None, api_key: str = OWNER_KEY,
               path: str = "/graphql") -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await http.post(path, content=content, headers=headers)


async def test_a_retried_mutation_is_done_once_and_answered_as_the_first_time(
        http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    dataset_id = await sft_dataset(gql)
    request = body(ADD_RECORDS, {"id": dataset_id, "records": [{"fields": {"prompt": f"p{i}"}} for i in range(5)]})
    first = await post(http, request, "add-1")
    again = await post(http, request, "add-1")
    assert first.json()["data"]["addRecords"]["created"] == 5
    assert again.json() == first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert "Idempotency-Replayed" not in first.headers
    assert (await gql(COUNT, {"id": dataset_id}))["records"]["totalCount"] == 5
    without_key = await post(http, request, None)  # no key: done again, as ever
    assert without_key.json()["data"]["addRecords"]["created"] == 5


async def test_a_retried_create_user_is_not_a_conflict(http: httpx.AsyncClient) -> None:
    request = body("mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey user { id } } }",
                   {"i": {"username": "ann", "role": "ANNOTATOR", "workspaceIds": []}})
    first, again = await post(http, request, "user-ann"), await post(http, request, "user-ann")
    assert "errors" not in again.json()
    assert again.json() == first.json()


async def test_a_key_reused_with_another_request_is_refused_and_changes_nothing(
        http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    await post(http, body(CREATE_WORKSPACE, {"n": "first"}), "ws")
    refused = await post(http, body(CREATE_WORKSPACE, {"n": "second"}), "ws")
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "new key" in error["message"]
    names = [w["name"] for w in (await gql("{ workspaces { name } }"))["workspaces"]]
    assert names == ["first"]


async def test_keys_belong_to_their_user(http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    other = await new_user(gql, "admin2", role="ADMIN")
    assert other.api_key is not None
    mine = await post(http, body(CREATE_WORKSPACE, {"n": "mine"}), "same-key")
    theirs = await post(http, body(CREATE_WORKSPACE, {"n": "mine"}), "same-key", api_key=other.api_key)
    assert mine.json()["data"]["createWorkspace"]["name"] == "mine"
    assert "Idempotency-Replayed" not in theirs.headers  # their own request, answered for them
    assert theirs.json()["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "CONFLICT")


async def test_queries_ignore_the_key(http: httpx.AsyncClient) -> None:
    first = await post(http, body("{ me { username } }", {}), "q")
    other = await post(http, body("{ workspaces { name } }", {}), "q")
    assert "errors" not in other.json()
    assert "Idempotency-Replayed" not in first.headers
    assert other.json() == {"data": {"workspaces": []}}


async def test_a_key_that_is_too_long_or_not_ascii_is_refused(http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    for key in ("k" * 256, "clé", "two words"):
        refused = await http.post("/graphql", content=body(CREATE_WORKSPACE, {"n": "never"}),
                                  headers={"Authorization": f"Bearer {OWNER_KEY}", "Content-Type": "application/json",
                                           "Idempotency-Key": key.encode()})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["path"] == ["Idempotency-Key"]
    assert (await gql("{ workspaces { name } }"))["workspaces"] == []


async def test_a_concurrent_duplicate_waits_for_the_first_and_gets_its_answer(
        http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    dataset_id = await sft_dataset(gql)
    request = body(ADD_RECORDS, {"id": dataset_id, "records": [{"fields": {"prompt": f"p{i}"}} for i in range(300)]})
    answers = await asyncio.gather(*(post(http, request, "together") for _ in range(3)))
    assert [a.json() for a in answers] == [answers[0].json()] * 3
    assert answers[0].json()["data"]["addRecords"]["created"] == 300
    assert (await gql(COUNT, {"id": dataset_id}))["records"]["totalCount"] == 300


async def test_an_upload_with_a_key_is_done_once(http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    dataset_id = await sft_dataset(gql)
    lines = b"\n".join(json.dumps({"fields": {"prompt": f"p{i}"}}).encode() for i in range(4))
    path = f"/datasets/{dataset_id}/records"
    first, again = await post(http, lines, "up", path=path), await post(http, lines, "up", path=path)
    assert first.json()["created"] == 4
    assert again.json() == first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    refused = await post(http, lines + b"\n" + lines, "up", path=path)
    assert refused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await gql(COUNT, {"id": dataset_id}))["records"]["totalCount"] == 4


def test_the_first_answer_is_kept_over_a_restart(tmp_path: Path, mongodb_uri: str) -> None:
    with service(tmp_path, mongodb_uri) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "over-a-restart"}
        request = {"query": CREATE_WORKSPACE, "variables": {"n": "kept"}}
        first = http.post("/graphql", json=request, headers=headers)
        served.stop()
        served.start()
        again = http.post("/graphql", json=request, headers=headers)
        listed = http.post("/graphql", json={"query": "{ workspaces { name } }"}, headers={
            "Authorization": f"Bearer {KEY}"})
    assert "errors" not in again.json()
    assert again.json() == first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert listed.json()["data"]["workspaces"] == [{"name": "kept"}]


async def test_an_answer_too_large_to_keep_is_not_done_again(
        http: httpx.AsyncClient, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset_id = await sft_dataset(gql)
    monkeypatch.setattr(idempotency, "MAX_KEPT_BYTES", 10)
    request = body(ADD_RECORDS, {"id": dataset_id, "records": [{"fields": {"prompt": "p"}}]})
    first = await post(http, request, "big")
    assert first.json()["data"]["addRecords"]["created"] == 1  # the first caller gets it whole
    again = await post(http, request, "big")
    assert again.status_code == 409
    assert again.json()["errors"][0]["extensions"]["reason"] == "answer_not_kept"
    assert (await gql(COUNT, {"id": dataset_id}))["records"]["totalCount"] == 1


async def test_a_key_past_its_window_names_a_new_request(
        http: httpx.AsyncClient, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset_id = await sft_dataset(gql)
    request = body(ADD_RECORDS, {"id": dataset_id, "records": [{"fields": {"prompt": "p"}}]})
    await post(http, request, "old")
    monkeypatch.setattr(idempotency, "WINDOW", timedelta(0))
    again = await post(http, request, "old")
    assert "Idempotency-Replayed" not in again.headers
    assert (await gql(COUNT, {"id": dataset_id}))["records"]["totalCount"] == 2


FILLER = " ".join(f"word{n}" for n in range(300))
"""About 2.5 KB a record: adding 1,000 of them outlasts the 0.2 s client timeout below however
fast the machine (with short prompts the answer sometimes came in time, and nothing was lost)."""


def test_an_answer_lost_before_a_restart_is_found_after_it(tmp_path: Path, mongodb_uri: str) -> None:
    with service(tmp_path, mongodb_uri) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        owner = {"Authorization": f"Bearer {KEY}"}
        dataset_id = _sft_dataset_over_http(http, owner)
        request = {"query": ADD_RECORDS, "variables": {
            "id": dataset_id, "records": [{"fields": {"prompt": f"p{i} {FILLER}"}} for i in range(1_000)]}}
        keyed = {**owner, "Idempotency-Key": "lost-then-restarted"}
        with pytest.raises(httpx.ReadTimeout):
            http.post("/graphql", json=request, headers=keyed, timeout=0.2)  # the answer is lost
        served.stop()  # a graceful stop lets the request finish and keep its answer
        served.start()
        again = http.post("/graphql", json=request, headers=keyed)
        count = http.post("/graphql", json={"query": COUNT, "variables": {"id": dataset_id}}, headers=owner)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json()["data"]["addRecords"]["created"] == 1_000
    assert count.json()["data"]["records"]["totalCount"] == 1_000


def _sft_dataset_over_http(http: httpx.Client, headers: dict[str, str]) -> str:
    def run(query: str, variables: dict[str, Any]) -> Any:
        answer = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
        assert "errors" not in answer, answer
        return answer["data"]

    workspace = run(CREATE_WORKSPACE, {"n": "team"})["createWorkspace"]["id"]
    created = run(CREATE_DATASET, {"input": {"workspaceId": workspace, "name": "sft",
                                             "fields": [{"name": "prompt", "settings": {"text": {}}}],
                                             "questions": [{"name": "completion", "settings": {"text": {}}}]}})
    run(PUBLISH, {"id": created["createDataset"]["id"]})
    return str(created["createDataset"]["id"])


async def test_keys_past_their_window_are_swept(http: httpx.AsyncClient, settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "WINDOW", timedelta(0))
    monkeypatch.setattr(idempotency, "SWEEP_EVERY", timedelta(0))
    for name in ("a", "b", "c"):
        await post(http, body(CREATE_WORKSPACE, {"n": name}), f"key-{name}")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        kept = await client[settings.database_name]["idempotency_keys"].find({}).to_list()
    finally:
        await client.close()
    assert [doc["key"] for doc in kept] == ["key-c"]  # each request swept the ones before it
