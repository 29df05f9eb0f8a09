"""The built-in `span` question end to end over GraphQL: settings checked against the
dataset, answers and suggestions against the record's text, unification, agreement with
absent spans coded, exports and the token-classification training task."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import helpers as h
from tests.conftest import GraphQLClient

LABELS = [{"value": "PER", "text": "Person"}, {"value": "LOC", "text": "Location"}]
TEXT = "Ada in Paris"  # Ada: 0-3, Paris: 7-12
SPAN = {"span": {"field": "text", "labels": LABELS}}
ADD_RECORD = """
mutation($id: ID!, $records: [RecordInput!]!) {
  addRecords(datasetId: $id, records: $records) { created errors { index code message problems } }
}"""
SUBMIT = """
mutation($input: ResponseInput!) {
  submitResponse(input: $input) { version values { question value { ... on SpanValue { span { start end label } } } } }
}"""
QUESTIONS = "query($id: ID!) { dataset(id: $id) { questions { name answerSchema settings { __typename } } } }"
RECORD = """query($id: ID!) { record(id: $id) { suggestions { question agent
  value { ... on SpanValue { span { start end label } } } } } }"""
UNIFIED = """query($id: ID!) { unifiedAnswers(datasetId: $id, question: "entities") {
  edges { node { externalId value tie disagreement submitted } } } }"""
AGREEMENT = """query($id: ID!) { agreement(datasetId: $id, question: "entities") {
  level alpha records pairs annotators { answers agreementWithMajority } } }"""
TRAINING = """query($id: ID!, $task: String!, $o: TrainingOptionsInput) {
  trainingData(datasetId: $id, task: $task, options: $o) { rows rules } }"""


def spans(*marks: tuple[int, int, str]) -> list[dict[str, Any]]:
    return [{"start": start, "end": end, "label": label} for start, end, label in marks]


async def create(gql: GraphQLClient, ws: str, fields: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
    spec = {"workspaceId": ws, "name": "ner", "fields": fields,
            "questions": [{"name": "entities", "settings": settings}]}
    return await gql.raw(h.CREATE_DATASET, {"input": spec})


async def test_settings_are_checked_against_the_dataset(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    missing = await create(gql, ws, [{"name": "prompt", "settings": h.TEXT}], SPAN)
    error = missing["errors"][0]["extensions"]
    assert error["code"] == "VALIDATION"
    assert error["path"] == ["questions", 0, "settings", "span", "field"]
    assert error["reason"] == "unknown_field"
    assert error["question"] == "entities"

    for kind in ("chat", "image"):
        wrong = await create(gql, ws, [{"name": "text", "settings": {kind: {}}}], SPAN)
        assert wrong["errors"][0]["extensions"]["reason"] == "wrong_field_kind", kind
        assert f"is a {kind} field" in wrong["errors"][0]["message"]

    # addQuestion checks against the fields the dataset has
    draft = await h.dataset(gql, ws, name="draft", publish=False, fields=[{"name": "prompt", "settings": h.TEXT}],
                            questions=[{"name": "q", "settings": {"text": {}}}])
    added = await gql.error("""mutation($id: ID!, $q: QuestionInput!) { addQuestion(datasetId: $id, question: $q) { id } }""",
                            {"id": draft["id"], "q": {"name": "entities", "settings": SPAN}})
    assert added["extensions"]["path"] == ["question", "settings", "span", "field"]
    assert (await gql(QUESTIONS, {"id": draft["id"]}))["dataset"]["questions"][-1]["name"] == "q"


@pytest.fixture
async def ner(gql: GraphQLClient) -> dict[str, Any]:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="ner", fields=[{"name": "text", "settings": h.TEXT}],
                              questions=[{"name": "entities", "settings": SPAN}])
    users = [await h.new_user(gql, name, workspaces=[ws]) for name in ("u1", "u2", "u3")]
    return {"id": created["id"], "users": users, "ws": ws}


async def add(gql: GraphQLClient, dataset: str, external_id: str, text: str,
              suggestion: list[dict[str, Any]] | None = None) -> Any:
    record: dict[str, Any] = {"externalId": external_id, "fields": {"text": text}}
    if suggestion is not None:
        record["suggestions"] = [{"question": "entities", "value": {"span": suggestion}, "agent": "ner-model"}]
    return (await gql(ADD_RECORD, {"id": dataset, "records": [record]}))["addRecords"]


async def record_ids(gql: GraphQLClient, dataset: str) -> dict[str, str]:
    edges = (await gql(h.RECORDS, {"id": dataset, "first": 100}))["records"]["edges"]
    return {e["node"]["externalId"]: e["node"]["id"] for e in edges}


def answer(record: str, value: list[dict[str, Any]], status: str = "SUBMITTED") -> dict[str, Any]:
    return {"input": {"recordId": record, "status": status,
                      "values": [{"question": "entities", "value": {"span": value}}]}}


async def test_answers_and_suggestions_are_checked_against_the_record_text(
        gql: GraphQLClient, ner: dict[str, Any]) -> None:
    refused = await add(gql, ner["id"], "bad", "Hello!", spans((0, 500, "PER")))
    assert refused["created"] == 0
    assert "beyond the end of the text (6 characters)" in refused["errors"][0]["message"]
    problem = refused["errors"][0]["problems"][0]
    assert (problem["path"], problem["reason"], problem["question"]) == (
        ["suggestions", 0, "value", "span", 0, "end"], "out_of_bounds", "entities")
    accepted = await add(gql, ner["id"], "r1", TEXT, spans((7, 12, "LOC"), (0, 3, "PER")))
    assert accepted == {"created": 1, "errors": []}
    records = await record_ids(gql, ner["id"])
    suggestion = (await gql(RECORD, {"id": records["r1"]}))["record"]["suggestions"][0]
    assert suggestion["value"]["span"] == spans((0, 3, "PER"), (7, 12, "LOC"))  # sorted

    labeler = ner["users"][0]
    error = await labeler.error(SUBMIT, answer(records["r1"], spans((7, 500, "LOC"), (4, 6, "ORG"),
                                                                   (0, 3, "PER"), (2, 3, "PER"))))
    details = error["extensions"]
    assert details["code"] == "VALIDATION"
    found = {(tuple(e["path"]), e["reason"]) for e in details["errors"]}
    value = ("values", 0, "value", "span")
    assert found == {((*value, 0, "end"), "out_of_bounds"), ((*value, 1, "label"), "unknown_label"),
                     ((*value, 3, "start"), "overlap")}
    assert {e["question"] for e in details["errors"]} == {"entities"}
    assert (await labeler(SUBMIT, answer(records["r1"], [])))["submitResponse"]["values"][0]["value"]["span"] == []


async def test_unification_agreement_and_training(gql: GraphQLClient, ner: dict[str, Any]) -> None:
    await add(gql, ner["id"], "r1", TEXT)
    await add(gql, ner["id"], "r2", "Bob met Ada")
    records = await record_ids(gql, ner["id"])
    u1, u2, u3 = ner["users"]
    await u1(SUBMIT, answer(records["r1"], spans((0, 3, "PER"), (7, 12, "LOC"))))
    await u2(SUBMIT, answer(records["r1"], spans((0, 3, "PER"))))
    await u3(SUBMIT, answer(records["r1"], spans((0, 3, "PER"), (7, 12, "PER"))))
    await u1(SUBMIT, answer(records["r2"], spans((0, 3, "PER"), (8, 11, "PER"))))
    await u2(SUBMIT, answer(records["r2"], spans((0, 3, "PER"), (8, 11, "PER"))))

    unified = {e["node"]["externalId"]: e["node"] for e in (await gql(UNIFIED, {"id": ner["id"]}))["unifiedAnswers"]["edges"]}
    assert unified["r1"]["value"] == spans((0, 3, "PER"))  # 7-12 is LOC once, PER once, absent once
    assert unified["r1"]["disagreement"] is True
    assert unified["r2"]["value"] == spans((0, 3, "PER"), (8, 11, "PER"))

    # Units (stretch: codes): r1 0:3 PER PER PER; r1 7:12 LOC absent PER; r2 0:3 PER PER; r2 8:11 PER PER.
    report = (await gql(AGREEMENT, {"id": ner["id"]}))["agreement"]
    assert report["level"] == "NOMINAL"
    assert report["records"] == 2
    assert report["alpha"] == pytest.approx(reference_alpha())

    training = (await gql(TRAINING, {"id": ner["id"], "task": "token_classification",
                                     "o": {"question": "entities"}}))["trainingData"]
    rows = {row["external_id"]: row for row in training["rows"]}
    assert rows["r1"]["tokens"] == ["Ada", "in", "Paris"]
    assert rows["r1"]["ner_tags"] == ["B-PER", "O", "O"]
    assert rows["r2"]["ner_tags"] == ["B-PER", "O", "B-PER"]
    assert training["rules"]["task"] == "token_classification"

    download = await gql.http.get(f"/datasets/{ner['id']}/training/token_classification?question=entities",
                                  headers={"Authorization": f"Bearer {gql.api_key}"})
    assert download.status_code == 200
    assert [json.loads(line)["tokens"] for line in download.text.splitlines()][1] == ["Bob", "met", "Ada"]
    export = await gql.http.get(f"/datasets/{ner['id']}/export", headers={"Authorization": f"Bearer {gql.api_key}"})
    first = json.loads(export.text.splitlines()[0])
    assert {tuple(r["values"]["entities"][0].values()) for r in first["responses"]} == {(0, 3, "PER")}


def reference_alpha() -> float:
    import krippendorff
    import numpy as np

    nan = np.nan
    codes = {"PER": 1, "LOC": 2, "absent": 3}
    units = [["PER", "PER", "PER"], ["LOC", "absent", "PER"], ["PER", "PER", None], ["PER", "PER", None]]
    matrix = np.array([[codes[u[coder]] if u[coder] else nan for u in units] for coder in range(3)])
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


async def test_answer_schema_reflects_the_settings(gql: GraphQLClient, ner: dict[str, Any]) -> None:
    question = (await gql(QUESTIONS, {"id": ner["id"]}))["dataset"]["questions"][0]
    assert question["settings"]["__typename"] == "SpanQuestionSettings"
    assert question["answerSchema"]["items"]["properties"]["label"]["enum"] == ["PER", "LOC"]
