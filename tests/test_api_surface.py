"""Dataset updates, batch responses, nested relations, and the masking of unexpected errors."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds import Agreement, QuestionKind, hookimpl
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient

UPDATE = """mutation($id: ID!, $input: UpdateDatasetInput!) { updateDataset(id: $id, input: $input)
  { name guidelines distribution { minSubmitted } } }"""
SUBMIT_MANY = """mutation($inputs: [ResponseInput!]!) { submitResponses(inputs: $inputs) { status } }"""


async def record_ids(gql: GraphQLClient, dataset_id: str) -> list[str]:
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 100})
    return [e["node"]["id"] for e in page["records"]["edges"]]


def submitted(record_id: str) -> dict[str, Any]:
    return {"recordId": record_id, "status": "SUBMITTED",
            "values": [{"question": "completion", "value": {"text": "an answer"}}]}


async def test_changing_min_submitted_recomputes_statuses(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, distribution={"minSubmitted": 2})
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(3)])
    ids = await record_ids(gql, dataset_id)
    await gql(SUBMIT_MANY, {"inputs": [submitted(ids[0]), submitted(ids[1])]})

    async def completed() -> list[str]:
        page = await gql(h.RECORDS, {"id": dataset_id, "first": 10, "filter": {"status": "COMPLETED"}})
        return [e["node"]["id"] for e in page["records"]["edges"]]

    assert await completed() == []
    changed = await gql(UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 1},
                                                             "guidelines": "New rules"}})
    assert changed["updateDataset"]["distribution"] == {"minSubmitted": 1}
    assert changed["updateDataset"]["guidelines"] == "New rules"
    assert await completed() == ids[:2]
    await gql(UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 2}}})
    assert await completed() == []
    error = await gql.error(UPDATE, {"id": dataset_id, "input": {"distribution": {"minSubmitted": 51}}})
    assert error["extensions"]["code"] == "VALIDATION"


async def test_submit_responses_writes_none_when_one_is_bad(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "a"}}, {"fields": {"prompt": "b"}}])
    ids = await record_ids(gql, dataset_id)
    bad = {**submitted(ids[1]), "values": [{"question": "completion", "value": {"rating": 1}}]}
    error = await gql.error(SUBMIT_MANY, {"inputs": [submitted(ids[0]), bad]})
    assert error["extensions"]["code"] == "VALIDATION"
    record = await gql("query($id: ID!) { record(id: $id) { responses { id } } }", {"id": ids[0]})
    assert record["record"]["responses"] == []
    done = await gql(SUBMIT_MANY, {"inputs": [submitted(ids[0]), submitted(ids[1])]})
    assert done["submitResponses"] == [{"status": "SUBMITTED"}] * 2


async def test_submit_responses_error_names_its_input_and_what_was_written(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": p}} for p in "abc"])
    ids = await record_ids(gql, dataset_id)
    bad = {**submitted(ids[1]), "values": [{"question": "completion", "value": {"rating": 1}}]}
    refused = await gql.error(SUBMIT_MANY, {"inputs": [submitted(ids[0]), bad]})
    assert (refused["extensions"]["input"], refused["extensions"]["written"]) == (1, 0)
    await gql(SUBMIT_MANY, {"inputs": [submitted(ids[1])]})  # ids[1] now has version 1
    stale = [{**submitted(i), "expectedVersion": 0} for i in ids]
    conflict = await gql.error(SUBMIT_MANY, {"inputs": stale})
    assert conflict["extensions"]["code"] == "CONFLICT"
    assert (conflict["extensions"]["input"], conflict["extensions"]["written"]) == (1, 1)
    assert conflict["extensions"]["currentVersion"] == 1
    for record_id, answered in zip(ids, [1, 1, 0], strict=True):
        record = await gql("query($id: ID!) { record(id: $id) { responses { version } } }", {"id": record_id})
        assert len(record["record"]["responses"]) == answered


async def test_nested_relations(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "a"}}])
    (record_id,) = await record_ids(gql, dataset_id)
    data = await gql("""query($id: ID!) { record(id: $id) { dataset { name workspace { name
        datasets { id } } } } workspaces { name datasets { name status } } me { role } }""",
                     {"id": record_id})
    assert data["record"]["dataset"] == {"name": "sft", "workspace": {
        "name": "team", "datasets": [{"id": dataset_id}]}}
    assert data["workspaces"] == [{"name": "team", "datasets": [{"name": "sft", "status": "READY"}]}]


class ExplodingQuestion(QuestionKind):
    """A kind whose validation has a bug: stands for any unexpected exception."""

    name = "exploding"
    value_type = str
    agreement = Agreement.NONE

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        raise RuntimeError("secret internal detail at /srv/db")


@pytest.fixture
async def gql_exploding(settings: Settings) -> AsyncIterator[GraphQLClient]:
    plugin = types.ModuleType("exploding_plugin")

    @hookimpl
    def feedbackql_question_types() -> list[Any]:
        return [ExplodingQuestion]

    plugin.feedbackql_question_types = feedbackql_question_types  # type: ignore[attr-defined]
    app = create_app(settings, load_registry(builtin_only=True, extra_plugins=[plugin]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield GraphQLClient(client, OWNER_KEY)


async def test_a_kinds_own_failure_is_named_masked_and_logged(
    gql_exploding: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    gql = gql_exploding
    dataset_id = await h.sft_dataset(gql, questions=[{"name": "q", "settings": {"exploding": {}}}])
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "a"}}])
    (record_id,) = await record_ids(gql, dataset_id)
    with caplog.at_level(logging.ERROR, logger="feedbackql_server.plugins"):
        error = await gql.error(h.SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED",
                                                     "values": [{"question": "q", "value": {"exploding": "x"}}]}})
    assert error["extensions"]["code"] == "PLUGIN_ERROR"
    assert error["extensions"]["plugin"] == "exploding_plugin"
    request_id = error["extensions"]["requestId"]
    assert request_id in error["message"]
    assert "secret" not in str(error)
    assert any(request_id in record.getMessage() for record in caplog.records)


async def test_oversized_bodies_are_refused(gql: GraphQLClient, settings: Settings) -> None:
    huge = "x" * (settings.max_body_bytes + 1)
    response = await gql.http.post("/graphql", json={"query": "{ me { id } }", "variables": {"x": huge}},
                                   headers={"Authorization": f"Bearer {OWNER_KEY}"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_admins_cannot_create_owners_or_admins(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    admin = await h.new_user(gql, "admin1", role="ADMIN", workspaces=[ws])
    for role in ("OWNER", "ADMIN"):
        error = await admin.error(h.CREATE_USER, {"input": {"username": f"x{role.lower()}", "role": role,
                                                            "workspaceIds": [ws]}})
        assert error["extensions"]["code"] == "FORBIDDEN"
    annotator = await h.new_user(admin, "ann1", workspaces=[ws])
    error = await annotator.error(h.CREATE_USER, {"input": {"username": "y", "role": "ANNOTATOR",
                                                            "workspaceIds": [ws]}})
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_token_limit_and_graphiql(gql: GraphQLClient) -> None:
    many_fields = "{ me { " + " ".join(["id"] * 6000) + " } }"
    error = await gql.error(many_fields)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION"
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_renaming_onto_an_existing_dataset_is_a_conflict(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    first = await h.dataset(gql, ws, name="first", publish=False)
    await h.dataset(gql, ws, name="second", publish=False)
    error = await gql.error(UPDATE, {"id": first["id"], "input": {"name": "second"}})
    assert error["extensions"]["code"] == "CONFLICT"
    data = await gql("query($id: ID!) { dataset(id: $id) { name } }", {"id": first["id"]})
    assert data["dataset"]["name"] == "first"


async def test_a_workspace_is_never_deleted_from_under_a_new_dataset(gql: GraphQLClient) -> None:
    for trial in range(8):
        ws = await h.workspace(gql, f"racing-{trial}")
        create = gql.raw(h.CREATE_DATASET, {"input": {"workspaceId": ws, "name": "d"}})
        delete = gql.raw("mutation($id: ID!) { deleteWorkspace(id: $id) }", {"id": ws})
        created, deleted = await asyncio.gather(create, delete)
        assert not ("errors" not in created and "errors" not in deleted), trial
        left = await gql("{ workspaces { id datasets { id } } }")
        orphans = [w for w in left["workspaces"] if w["id"] == ws]
        if "errors" not in deleted:
            assert orphans == []
        if "errors" not in created:
            assert orphans[0]["datasets"] == [{"id": created["data"]["createDataset"]["id"]}]
