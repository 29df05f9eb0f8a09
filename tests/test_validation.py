"""Every configuration and value rule, with the bad inputs it must refuse (and change nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import helpers as h
from tests.conftest import GraphQLClient

OPTIONS = [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}]


def question(settings: dict[str, Any], name: str = "q") -> dict[str, Any]:
    return {"name": name, "settings": settings}


BAD_QUESTIONS = [
    pytest.param(question({"rating": {"values": [1]}}), "at least 2", id="rating-too-few"),
    pytest.param(question({"rating": {"values": list(range(12))}}), "at most 11", id="rating-too-many"),
    pytest.param(question({"rating": {"values": [1, 11]}}), "less than or equal to 10", id="rating-out-of-range"),
    pytest.param(question({"rating": {"values": [1, 1, 2]}}), "unique", id="rating-duplicate"),
    pytest.param(question({"label": {"options": OPTIONS[:1]}}), "at least 2", id="label-one-option"),
    pytest.param(question({"label": {"options": [OPTIONS[0], OPTIONS[0]]}}), "unique", id="label-duplicate"),
    pytest.param(question({"label": {"options": [{"value": "", "text": "x"}, OPTIONS[1]]}}),
                 "at least 1", id="label-empty-value"),
    pytest.param(question({"label": {"options": [{"value": "v" * 201, "text": "x"}, OPTIONS[1]]}}),
                 "at most 200", id="label-long-value"),
    pytest.param(question({"multiLabel": {"options": [{"value": "a", "text": "t" * 501}, OPTIONS[1]]}}),
                 "at most 500", id="multilabel-long-text"),
    pytest.param(question({"ranking": {"options": [{"value": f"o{i}", "text": "x"} for i in range(51)]}}),
                 "at most 50", id="ranking-too-many"),
    pytest.param(question({"text": {}}, name="Bad Name"), "not a valid name", id="name-uppercase"),
    pytest.param(question({"text": {}}, name="___"), "not a valid name", id="name-no-alnum"),
    pytest.param(question({"text": {}}, name="n" * 201), "at most 200", id="name-too-long"),
    pytest.param({**question({"text": {}}), "title": ""}, "1 to 500", id="title-empty"),
    pytest.param({**question({"text": {}}), "title": "t" * 501}, "1 to 500", id="title-too-long"),
    pytest.param({**question({"text": {}}), "description": "d" * 1001}, "at most 1000",
                 id="description-too-long"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_QUESTIONS)
async def test_question_rules(gql: GraphQLClient, bad: dict[str, Any], message: str) -> None:
    ws = await h.workspace(gql)
    error = await gql.error(h.CREATE_DATASET, {"input": {
        "workspaceId": ws, "name": "d", "fields": [{"name": "prompt", "settings": h.TEXT}],
        "questions": [bad]}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert message in error["message"]
    assert (await gql("query($w: ID!) { datasets(workspaceId: $w) { id } }", {"w": ws})) == {
        "datasets": []}


async def test_duplicate_names_and_dataset_conflict(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    error = await gql.error(h.CREATE_DATASET, {"input": {
        "workspaceId": ws, "name": "d", "fields": [{"name": "p", "settings": h.TEXT}] * 2}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert "unique" in error["message"]
    await h.dataset(gql, ws, name="same", publish=False)
    error = await gql.error(h.CREATE_DATASET, {"input": {"workspaceId": ws, "name": "same"}})
    assert error["extensions"]["code"] == "CONFLICT"


async def test_oneof_settings_need_exactly_one_member(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    error = await gql.error(h.CREATE_DATASET, {"input": {
        "workspaceId": ws, "name": "d",
        "questions": [question({"text": {}, "rating": {"values": [1, 2]}})]}})
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION"


async def test_publish_needs_required_field_and_question_then_freezes(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    draft = await h.dataset(gql, ws, publish=False, fields=[
        {"name": "p", "required": False, "settings": h.TEXT}])
    error = await gql.error(h.PUBLISH, {"id": draft["id"]})
    assert error["extensions"]["code"] == "VALIDATION"
    assert "required field" in error["message"]
    add_field = "mutation($id: ID!, $f: FieldInput!) { addField(datasetId: $id, field: $f) { fields { name } } }"
    add_question = ("mutation($id: ID!, $q: QuestionInput!) { addQuestion(datasetId: $id, question: $q) "
                    "{ questions { name } } }")
    await gql(add_field, {"id": draft["id"], "f": {"name": "prompt", "settings": h.TEXT}})
    error = await gql.error(add_field, {"id": draft["id"], "f": {"name": "prompt", "settings": h.TEXT}})
    assert error["extensions"]["code"] == "VALIDATION"
    error = await gql.error(h.PUBLISH, {"id": draft["id"]})
    assert "required question" in error["message"]
    await gql(add_question, {"id": draft["id"], "q": question({"text": {}})})
    assert (await gql(h.PUBLISH, {"id": draft["id"]}))["publishDataset"]["status"] == "READY"
    error = await gql.error(add_question, {"id": draft["id"], "q": question({"text": {}}, "other")})
    assert error["extensions"]["code"] == "CONFLICT"
    data = await gql("query($id: ID!) { dataset(id: $id) { questions { name } } }", {"id": draft["id"]})
    assert data["dataset"]["questions"] == [{"name": "q"}]


async def test_records_need_a_published_dataset(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    draft = await h.dataset(gql, ws, publish=False)
    error = await gql.error(h.ADD_RECORDS, {"id": draft["id"], "records": [{"fields": {}}]})
    assert error["extensions"]["code"] == "CONFLICT"


BAD_RECORDS = [
    pytest.param({"fields": {}}, "required", id="missing-required-field"),
    pytest.param({"fields": {"prompt": "x", "nope": "y"}}, "unknown field", id="unknown-field"),
    pytest.param({"fields": {"prompt": 5}}, "valid string", id="wrong-type"),
    pytest.param({"fields": {"prompt": "  "}}, "must not be empty", id="blank-text"),
    pytest.param({"fields": {"prompt": "a\u0000b"}}, "NUL", id="nul-in-field"),
    pytest.param({"fields": {"prompt": "x"}, "metadata": {"a.b": 1}}, "'.'", id="dotted-key"),
    pytest.param({"fields": {"prompt": "x"}, "metadata": {"$where": 1}}, "'$'", id="dollar-key"),
    pytest.param({"fields": {"prompt": "x"}, "metadata": {"m": [[1, 2]]}}, "arrays", id="nested-array"),
    pytest.param({"fields": {"prompt": "x"}, "metadata": {"m": 2**70}}, "64 bits", id="huge-int"),
    pytest.param({"fields": {"prompt": "x"}, "metadata": {"k\u0000": 1}}, "NUL", id="nul-in-key"),
    pytest.param({"fields": {"prompt": "x"}, "suggestions": [
        {"question": "completion", "value": {"text": "ok"}, "score": 1.5}]}, "between 0 and 1",
        id="score-out-of-range"),
    pytest.param({"fields": {"prompt": "x"}, "suggestions": [
        {"question": "completion", "value": {"rating": 3}}]}, "value.text", id="suggestion-wrong-kind"),
    pytest.param({"fields": {"prompt": "x"}, "suggestions": [
        {"question": "nope", "value": {"text": "x"}}]}, "no question", id="suggestion-unknown-question"),
    pytest.param({"fields": {"prompt": "x"}, "externalId": ""}, "1 to 1000", id="empty-external-id"),
]


@pytest.mark.parametrize(("record", "message"), BAD_RECORDS)
async def test_bad_records_are_reported_and_good_ones_kept(
    gql: GraphQLClient, record: dict[str, Any], message: str
) -> None:
    dataset_id = await h.sft_dataset(gql)
    good = {"fields": {"prompt": "fine"}}
    result = await h.add_records(gql, dataset_id, [good, record, good])
    assert result["created"] == 2
    assert [(e["index"], e["code"]) for e in result["errors"]] == [(1, "VALIDATION")]
    assert message in result["errors"][0]["message"]


async def test_nan_is_refused(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    body = ('{"query": "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, '
            f'records: $r) {{ created errors {{ code message }} }} }}", "variables": {{"id": "{dataset_id}", '
            '"r": [{"fields": {"prompt": "x"}, "metadata": {"m": NaN}}]}}')
    response = await gql.http.post("/graphql", content=body, headers={
        "Authorization": f"Bearer {gql.api_key}", "Content-Type": "application/json"})
    assert response.status_code == 200
    result = response.json()["data"]["addRecords"]
    assert result["created"] == 0
    assert result["errors"][0]["code"] == "VALIDATION"
    assert "finite" in result["errors"][0]["message"]


async def test_metadata_properties_and_extra_metadata(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, allowExtraMetadata=False, metadataProperties=[
        {"name": "source", "kind": "TERMS", "values": ["web", "book"]},
        {"name": "length", "kind": "INTEGER", "min": 0, "max": 100},
    ])
    result = await h.add_records(gql, dataset_id, [
        {"fields": {"prompt": "a"}, "metadata": {"source": "web", "length": 10}},
        {"fields": {"prompt": "b"}, "metadata": {"source": "tv"}},
        {"fields": {"prompt": "c"}, "metadata": {"length": 101}},
        {"fields": {"prompt": "d"}, "metadata": {"length": 1.5}},
        {"fields": {"prompt": "e"}, "metadata": {"other": 1}},
    ])
    assert result["created"] == 1
    assert [e["index"] for e in result["errors"]] == [1, 2, 3, 4]


BAD_ANSWERS = [
    pytest.param("quality", {"rating": 8}, "SUBMITTED", "not one of", id="rating-not-in-scale"),
    pytest.param("topic", {"label": "nope"}, "SUBMITTED", "unknown option", id="label-unknown"),
    pytest.param("flags", {"multiLabel": []}, "SUBMITTED", "at least 1", id="multilabel-empty"),
    pytest.param("flags", {"multiLabel": ["a", "a"]}, "SUBMITTED", "unique", id="multilabel-dup"),
    pytest.param("order", {"ranking": [{"value": "a", "rank": 1}]}, "SUBMITTED", "every option",
                 id="ranking-incomplete"),
    pytest.param("order", {"ranking": [{"value": "a", "rank": 1}, {"value": "b", "rank": 3}]},
                 "SUBMITTED", "between 1 and 2", id="ranking-rank-too-high"),
    pytest.param("order", {"ranking": [{"value": "a", "rank": 1}, {"value": "a", "rank": 2}]},
                 "SUBMITTED", "unique", id="ranking-duplicate"),
    pytest.param("order", {"ranking": [{"value": "a", "rank": 0}, {"value": "b", "rank": 1}]},
                 "SUBMITTED", "greater than or equal to 1", id="ranking-rank-zero"),
    pytest.param("note", {"text": "   "}, "SUBMITTED", "must not be empty", id="text-blank"),
    pytest.param("note", {"label": "a"}, "SUBMITTED", "value.text", id="wrong-member"),
]


@pytest.mark.parametrize(("name", "value", "status", "message"), BAD_ANSWERS)
async def test_bad_answers(gql: GraphQLClient, name: str, value: Any, status: str, message: str) -> None:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="all", fields=[{"name": "prompt", "settings": h.TEXT}],
                              questions=[
        {"name": "quality", "settings": {"rating": {"values": [1, 2, 3]}}, "required": False},
        {"name": "topic", "settings": {"label": {"options": OPTIONS}}, "required": False},
        {"name": "flags", "settings": {"multiLabel": {"options": OPTIONS}}, "required": False},
        {"name": "order", "settings": {"ranking": {"options": OPTIONS}}, "required": False},
        {"name": "note", "settings": {"text": {}}},
    ])
    await h.add_records(gql, created["id"], [{"fields": {"prompt": "p"}}])
    record_id = (await gql(h.RECORDS, {"id": created["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
    values = [{"question": name, "value": value}]
    if name != "note":
        values.append({"question": "note", "value": {"text": "fine"}})
    error = await gql.error(h.SUBMIT, {"input": {"recordId": record_id, "status": status,
                                                 "values": values}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert message in error["message"]
    record = await gql("query($id: ID!) { record(id: $id) { status responses { id } } }", {"id": record_id})
    assert record["record"] == {"status": "PENDING", "responses": []}
