"""Unification, agreement and training exports on fixed data whose answers were worked out by
hand (ties included), with Krippendorff's alpha cross-checked against the `krippendorff`
package."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import krippendorff
import numpy as np
import pyarrow.parquet as pq
import pytest

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient

OPTIONS = [{"value": "pos", "text": "Positive"}, {"value": "neg", "text": "Negative"},
           {"value": "neu", "text": "Neutral"}]
RESPONSES = [{"value": f"response-{i}", "text": f"Response {i}"} for i in (1, 2, 3)]
QUESTIONS = [
    {"name": "rating", "settings": {"rating": {"values": [1, 2, 3, 4, 5]}}},
    {"name": "label", "settings": {"label": {"options": OPTIONS}}},
    {"name": "topics", "settings": {"multiLabel": {"options": [{"value": v, "text": v} for v in "abc"]}}},
    {"name": "preference", "settings": {"ranking": {"options": RESPONSES}}},
    {"name": "completion", "settings": {"text": {}}},
]


def ranks(*order: int) -> list[dict[str, Any]]:
    return [{"value": f"response-{i + 1}", "rank": rank} for i, rank in enumerate(order)]


# Per record, per labeler: (rating, label, topics, ranking of response-1..3, completion)
ANSWERS: dict[str, dict[str, tuple[Any, ...]]] = {
    "r1": {"u1": (4, "pos", ["a", "b"], ranks(1, 2, 3), "c1-u1"),
           "u2": (4, "neg", ["a"], ranks(1, 3, 2), "c1-u2"),
           "u3": (2, "neu", ["b", "c"], ranks(2, 1, 3), "c1-u3")},
    "r2": {"u1": (5, "neg", ["a"], ranks(1, 2, 3), "c2-u1"),
           "u2": (3, "neg", ["b"], ranks(2, 1, 3), "c2-u2")},
    "r3": {},
}
NAMES = ("rating", "label", "topics", "preference", "completion")
KINDS = ("rating", "label", "multiLabel", "ranking", "text")


@pytest.fixture
async def world(gql: GraphQLClient) -> dict[str, Any]:
    ws = await h.workspace(gql)
    fields = [{"name": "prompt", "settings": h.TEXT}] + [
        {"name": f"response-{i}", "settings": h.TEXT} for i in (1, 2, 3)]
    dataset = await h.dataset(gql, ws, name="training", fields=fields, questions=QUESTIONS)
    await h.add_records(gql, dataset["id"], [
        {"externalId": name, "fields": {"prompt": f"prompt {name}",
                                        **{f"response-{i}": f"{name} answer {i}" for i in (1, 2, 3)}}}
        for name in ANSWERS])
    edges = (await gql(h.RECORDS, {"id": dataset["id"], "first": 10}))["records"]["edges"]
    records = {e["node"]["externalId"]: e["node"]["id"] for e in edges}
    users = {name: await h.new_user(gql, name, workspaces=[ws]) for name in ("u1", "u2", "u3")}
    user_ids = {name: (await user("{ me { id } }"))["me"]["id"] for name, user in users.items()}
    for record, by_user in ANSWERS.items():
        for user, values in by_user.items():  # in order: u1 submits first
            await users[user](h.SUBMIT, {"input": {"recordId": records[record], "status": "SUBMITTED", "values": [
                {"question": name, "value": {kind: value}} for name, kind, value in zip(NAMES, KINDS, values, strict=True)]}})
    return {"dataset": dataset["id"], "records": records, "users": users, "user_ids": user_ids, "ws": ws}


UNIFIED = "query($id: ID!, $q: String!, $s: String) { unifiedAnswers(datasetId: $id, question: $q, strategy: $s) { edges { node { externalId value tie disagreement submitted } } } }"


async def unified(gql: GraphQLClient, dataset: str, question: str, strategy: str | None = None) -> dict[str, Any]:
    data = await gql(UNIFIED, {"id": dataset, "q": question, "s": strategy})
    return {e["node"]["externalId"]: (e["node"]["value"], e["node"]["tie"], e["node"]["disagreement"],
                                      e["node"]["submitted"])
            for e in data["unifiedAnswers"]["edges"]}


async def test_unification_follows_the_stated_rules(gql: GraphQLClient, world: dict[str, Any]) -> None:
    dataset = world["dataset"]
    assert await unified(gql, dataset, "rating", "mean") == {
        "r1": (3.3333, False, True, 3), "r2": (4.0, False, True, 2), "r3": (None, False, False, 0)}
    majority = await unified(gql, dataset, "rating", "majority")
    assert majority["r1"][:2] == (4, False)
    assert majority["r2"][:2] == (3, True)  # 5 vs 3: ties go to the lower rating
    assert (await unified(gql, dataset, "rating", "min"))["r1"][0] == 2
    assert (await unified(gql, dataset, "rating", "max"))["r2"][0] == 5
    labels = await unified(gql, dataset, "label")
    assert labels["r1"][:3] == ("pos", True, True)  # three-way tie: the first option wins
    assert labels["r2"][:3] == ("neg", False, False)
    topics = await unified(gql, dataset, "topics")
    assert topics["r1"][:2] == (["a", "b"], False)
    assert topics["r2"][:2] == ([], True)  # a and b each chosen by exactly half
    ranking = await unified(gql, dataset, "preference", "mean_rank")
    assert ranking["r1"][:2] == (ranks(1, 2, 3), False)  # mean ranks 4/3, 2, 8/3
    assert ranking["r2"][:2] == (ranks(1, 1, 2), True)  # 1.5, 1.5, 3
    assert (await unified(gql, dataset, "preference", "majority"))["r1"][:2] == (ranks(1, 2, 3), True)
    assert (await unified(gql, dataset, "completion"))["r1"][0] == "c1-u1"
    assert (await unified(gql, dataset, "completion", "none"))["r1"][0] is None


async def test_unknown_questions_and_strategies_are_refused(gql: GraphQLClient, world: dict[str, Any]) -> None:
    error = await gql.error(UNIFIED, {"id": world["dataset"], "q": "rating", "s": "median"})
    assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["strategy"])
    assert "mean" in error["message"]
    error = await gql.error(UNIFIED, {"id": world["dataset"], "q": "nope"})
    assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["question"])
    annotator = world["users"]["u1"]
    assert (await annotator.error(UNIFIED, {"id": world["dataset"], "q": "rating"}))["extensions"]["code"] == "FORBIDDEN"


ONE_UNIFIED = """query($r: ID!, $q: String!, $s: String) { unifiedAnswer(recordId: $r, question: $q, strategy: $s) {
  recordId externalId value tie disagreement submitted } }"""


async def test_one_record_unified_alone_equals_its_row_of_the_list(gql: GraphQLClient, world: dict[str, Any]) -> None:
    """What the overview shows next to one record's answers: the same figures as unifiedAnswers."""
    listed = await unified(gql, world["dataset"], "rating", "majority")
    for external_id, record_id in world["records"].items():
        one = (await gql(ONE_UNIFIED, {"r": record_id, "q": "rating", "s": "majority"}))["unifiedAnswer"]
        assert (one["recordId"], one["externalId"]) == (record_id, external_id)
        assert (one["value"], one["tie"], one["disagreement"], one["submitted"]) == listed[external_id]
    error = await gql.error(ONE_UNIFIED, {"r": world["records"]["r1"], "q": "rating", "s": "median"})
    assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["strategy"])
    annotator = world["users"]["u1"]
    error = await annotator.error(ONE_UNIFIED, {"r": world["records"]["r1"], "q": "rating"})
    assert error["extensions"]["code"] == "FORBIDDEN"


AGREEMENT = """query($id: ID!, $q: String!) { agreement(datasetId: $id, question: $q) {
  level alpha records pairs annotators { userId answers agreementWithMajority } } }"""
NAN = math.nan


def reference_alpha(units: list[list[float]], level: str) -> float:
    """The krippendorff package on a coders x units matrix (nan where a coder did not answer)."""
    coders = max(len(u) for u in units)
    matrix = np.full((coders, len(units)), np.nan)
    for column, values in enumerate(units):
        for row, value in enumerate(values):
            matrix[row, column] = value
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


@pytest.mark.parametrize(("question", "level", "units"), [
    ("rating", "interval", [[4, 4, 2], [5, 3]]),
    ("label", "nominal", [[0, 1, 2], [1, 1]]),
    # multi-label: one nominal unit per (record, label): chosen or not
    ("topics", "nominal", [[1, 1, 0], [1, 0, 1], [0, 0, 1], [1, 0], [0, 1], [0, 0]]),
    # ranking: one interval unit per (record, option): its rank
    ("preference", "interval", [[1, 1, 2], [2, 3, 1], [3, 2, 3], [1, 2], [2, 1], [3, 3]]),
])
async def test_alpha_matches_the_krippendorff_package(
    gql: GraphQLClient, world: dict[str, Any], question: str, level: str, units: list[list[float]],
) -> None:
    report = (await gql(AGREEMENT, {"id": world["dataset"], "q": question}))["agreement"]
    assert report["alpha"] == pytest.approx(reference_alpha(units, level), abs=1e-9)
    assert report["records"] == 2
    pairs_per_record = 3 + 1  # three labelers on r1, two on r2
    assert report["pairs"] == pairs_per_record * (len(units) // 2)


async def test_per_annotator_agreement_with_the_majority(gql: GraphQLClient, world: dict[str, Any]) -> None:
    report = (await gql(AGREEMENT, {"id": world["dataset"], "q": "label"}))["agreement"]
    by_user = {a["userId"]: (a["answers"], a["agreementWithMajority"]) for a in report["annotators"]}
    ids = world["user_ids"]
    # r1 has no majority (pos/neg/neu); on r2 both chose neg.
    assert by_user == {ids["u1"]: (2, 1.0), ids["u2"]: (2, 1.0), ids["u3"]: (1, None)}
    error = await gql.error(AGREEMENT, {"id": world["dataset"], "q": "completion"})
    assert error["extensions"]["code"] == "VALIDATION"


TRAINING = """query($id: ID!, $task: String!, $o: TrainingOptionsInput) {
  trainingData(datasetId: $id, task: $task, options: $o) { rows rules ties truncated } }"""


async def training_rows(gql: GraphQLClient, dataset: str, task: str, **options: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await gql(TRAINING, {"id": dataset, "task": task, "o": options}))["trainingData"]
    return data


async def test_training_tasks(gql: GraphQLClient, world: dict[str, Any]) -> None:
    dataset = world["dataset"]
    sft = await training_rows(gql, dataset, "sft", field="prompt", question="completion")
    assert sft["rows"] == [{"prompt": "prompt r1", "completion": c} for c in ("c1-u1", "c1-u2", "c1-u3")] + [
        {"prompt": "prompt r2", "completion": c} for c in ("c2-u1", "c2-u2")]
    unified_sft = await training_rows(gql, dataset, "sft", question="completion", strategy="first_submitted")
    assert [r["completion"] for r in unified_sft["rows"]] == ["c1-u1", "c2-u1"]

    pairs = await training_rows(gql, dataset, "reward_modeling", field="prompt", question="preference")
    assert pairs["rows"] == [
        {"prompt": "prompt r1", "chosen": "r1 answer 1", "rejected": "r1 answer 2"},
        {"prompt": "prompt r1", "chosen": "r1 answer 1", "rejected": "r1 answer 3"},
        {"prompt": "prompt r1", "chosen": "r1 answer 2", "rejected": "r1 answer 3"},
    ]  # r2's unified ranking is a tie (response-1 and response-2 share a mean rank): no pair at all
    assert pairs["ties"] == 1
    assert pairs["rules"]["strategy"] == "mean_rank"
    dpo = await training_rows(gql, dataset, "dpo", question="preference", bestVsWorst=True)
    assert dpo["rows"] == [{"prompt": "prompt r1", "chosen": "r1 answer 1", "rejected": "r1 answer 3"}]
    selected = await training_rows(gql, dataset, "rating_selection", question="rating", threshold=3.5)
    assert [(r["external_id"], r["rating"]) for r in selected["rows"]] == [("r2", 4.0)]
    top = await training_rows(gql, dataset, "rating_selection", question="rating", topK=2)
    assert [(r["external_id"], r["rating"]) for r in top["rows"]] == [("r2", 4.0), ("r1", 3.3333)]
    error = await gql.error(TRAINING, {"id": dataset, "task": "rating_selection", "o": {"question": "rating"}})
    assert error["extensions"]["path"] == ["threshold"]
    for task, question in (("dpo", "rating"), ("reward_modeling", "label"), ("rating_selection", "preference")):
        error = await gql.error(TRAINING, {"id": dataset, "task": task, "o": {"question": question, "threshold": 1}})
        assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["question"]), (task, error)


async def test_conversations_give_trl_chat_rows(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    dataset = await h.dataset(gql, ws, name="chat", fields=[{"name": "chat", "settings": {"chat": {}}}],
                              questions=[{"name": "reply", "settings": {"text": {}}}])
    chat = [{"role": "user", "content": "Hi"}]
    await h.add_records(gql, dataset["id"], [{"fields": {"chat": chat}}])
    record = (await gql(h.RECORDS, {"id": dataset["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
    await gql(h.SUBMIT, {"input": {"recordId": record, "status": "SUBMITTED",
                                   "values": [{"question": "reply", "value": {"text": "Hello!"}}]}})
    sft = await training_rows(gql, dataset["id"], "sft", question="reply")
    assert sft["rows"] == [{"messages": [*chat, {"role": "assistant", "content": "Hello!"}]}]


async def download(gql: GraphQLClient, path: str, key: str | None = OWNER_KEY) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await gql.http.get(path, headers=headers)


async def test_record_export_streams_every_format(gql: GraphQLClient, world: dict[str, Any]) -> None:
    dataset = world["dataset"]
    response = await download(gql, f"/datasets/{dataset}/export?format=jsonl")
    assert response.status_code == 200
    assert json.loads(response.headers["feedbackql-export-rules"])["task"] == "records"
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["external_id"] for r in rows] == ["r1", "r2", "r3"]
    first = rows[0]
    assert first["status"] == "completed"
    assert first["fields"]["prompt"] == "prompt r1"
    assert sorted(r["user"] for r in first["responses"]) == ["u1", "u2", "u3"]
    assert {r["values"]["rating"] for r in first["responses"]} == {4, 2}

    as_csv = await download(gql, f"/datasets/{dataset}/export?format=csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["external_id"] for r in table] == ["r1", "r2", "r3"]
    assert json.loads(table[1]["fields"])["prompt"] == "prompt r2"

    as_parquet = await download(gql, f"/datasets/{dataset}/training/reward_modeling?format=parquet&question=preference")
    parquet = pq.read_table(io.BytesIO(as_parquet.content))
    assert parquet.num_rows == 3
    assert parquet.column_names == ["prompt", "chosen", "rejected"]
    metadata = pq.ParquetFile(io.BytesIO(as_parquet.content)).metadata.metadata
    assert json.loads(metadata[b"feedbackql.stats"])["ties"] == 1
    assert json.loads(metadata[b"feedbackql.rules"])["pairs"] == "every strictly ordered pair"


async def test_exports_need_a_manager(gql: GraphQLClient, world: dict[str, Any]) -> None:
    dataset = world["dataset"]
    path = f"/datasets/{dataset}/export"
    assert (await download(gql, path, key=None)).status_code == 401
    annotator = world["users"]["u1"].api_key
    refused = await download(gql, path, key=annotator)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await download(gql, "/datasets/0123456789abcdef01234567/export")).status_code == 404
    bad = await download(gql, f"{path}?format=xml")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["path"] == ["format"]
    bad_task = await download(gql, f"/datasets/{dataset}/training/magic?question=rating")
    assert bad_task.status_code == 400
    bad_number = await download(gql, f"/datasets/{dataset}/training/rating_selection?question=rating&top_k=many")
    assert bad_number.status_code == 400
    extensions = bad_number.json()["errors"][0]["extensions"]
    assert (extensions["code"], extensions["path"]) == ("VALIDATION", ["top_k"])


async def test_csv_cells_never_run_as_formulas(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    hostile = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"]
    await h.add_records(gql, dataset_id, [{"externalId": text, "fields": {"prompt": text}} for text in hostile])
    response = await download(gql, f"/datasets/{dataset_id}/export?format=csv")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == 'attachment; filename="sft-records.csv"'
    table = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert [row["external_id"] for row in table] == [*("'" + text for text in hostile[:-1]), "plain"]
    stored = (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]["edges"]
    assert [e["node"]["externalId"] for e in stored] == hostile  # the stored data is unchanged


async def test_a_task_refuses_a_question_it_cannot_use(gql: GraphQLClient, world: dict[str, Any]) -> None:
    """sft on a rating question used to give zero rows; now it says why it cannot."""
    dataset = world["dataset"]
    for task, question in (("sft", "rating"), ("sft", "label"), ("token_classification", "completion")):
        error = await gql.error(TRAINING, {"id": dataset, "task": task, "o": {"question": question}})
        extensions = error["extensions"]
        assert (extensions["code"], extensions["path"], extensions["reason"]) == (
            "VALIDATION", ["question"], "unsuitable_question"), (task, question)
        assert extensions["question"] == question
    refused = await download(gql, f"/datasets/{dataset}/training/sft?question=rating")
    assert refused.status_code == 400
    assert "written text" in refused.json()["errors"][0]["message"]
    unknown = await gql.error(TRAINING, {"id": dataset, "task": "magic", "o": {"question": "rating"}})
    assert "token_classification" in unknown["message"]  # tasks contributed by plugins are listed
