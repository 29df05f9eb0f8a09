"""The rules training exports follow where answers alone do not decide a row: chat prompts
that cannot take a reply, ties, and the caller's filters — each stated in the export's header,
and an export left with no row refused with a typed error instead of an empty file."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.test_training_roundtrip import _answer, _ranking

TRAINING = """query($id: ID!, $task: String!, $o: TrainingOptionsInput, $f: TrainingFilter) {
  trainingData(datasetId: $id, task: $task, options: $o, filter: $f) { rows rules ties counts truncated } }"""
UNIFIED = """query($id: ID!, $q: String!, $s: String, $f: TrainingFilter) {
  unifiedAnswers(datasetId: $id, question: $q, strategy: $s, filter: $f) { edges { node { externalId tie } } } }"""


async def download(gql: GraphQLClient, dataset_id: str, task: str, **params: Any) -> Any:
    return await gql.http.get(f"/datasets/{dataset_id}/training/{task}", params=params,
                              headers={"Authorization": f"Bearer {OWNER_KEY}"})


async def chat_dataset(gql: GraphQLClient, chats: list[list[dict[str, str]]]) -> str:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="chat", fields=[
        {"name": "prompt", "settings": {"chat": {}}}, {"name": "response-1", "settings": h.TEXT},
        {"name": "response-2", "settings": h.TEXT}],
        questions=[{"name": "preference", "settings": {"ranking": {"options": h.RANKING_OPTIONS}}},
                   {"name": "reply", "settings": {"text": {}}}])
    await h.add_records(gql, created["id"], [{"fields": {"prompt": c, "response-1": "a", "response-2": "b"}}
                                             for c in chats])
    await _answer(gql, created["id"], [[{"preference": _ranking("response-1", "response-2"),
                                         "reply": {"text": "Sure."}}] for _ in chats])
    return str(created["id"])


USER = {"role": "user", "content": "Hi"}
ASSISTANT = {"role": "assistant", "content": "Hello"}


async def test_a_chat_prompt_that_cannot_take_a_reply_is_left_out_and_counted(gql: GraphQLClient) -> None:
    dataset_id = await chat_dataset(gql, [[USER], [USER, ASSISTANT], [ASSISTANT, USER], [USER, USER]])
    for task, question in (("sft", "reply"), ("dpo", "preference")):
        response = await download(gql, dataset_id, task, question=question)
        rows = [json.loads(line) for line in response.text.splitlines()]
        assert len(rows) == 1  # only [USER] ends with a user turn after alternating roles
        first_column = rows[0]["messages" if task == "sft" else "prompt"]
        assert first_column[:1] == [USER]
        counts = json.loads(response.headers["feedbackql-export-rules"])["counts"]
        assert counts["skipped"] == {"prompt_ends_with_assistant_turn": 1, "prompt_roles_not_alternating": 2}
        assert counts["rows"] == 1
        assert counts["records"] == 4


async def comparison_with_splits(gql: GraphQLClient) -> str:
    """r0: both labelers agree; r1 and r2: a 1-1 split (a tie under majority and mean_rank)."""
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="splits", fields=[
        {"name": "prompt", "settings": h.TEXT}, {"name": "response-1", "settings": h.TEXT},
        {"name": "response-2", "settings": h.TEXT}],
        questions=[{"name": "preference", "settings": {"ranking": {"options": h.RANKING_OPTIONS}}}])
    await h.add_records(gql, created["id"], [{"externalId": f"r{i}", "fields": {
        "prompt": f"p{i}", "response-1": "a", "response-2": "b"}} for i in range(3)])
    agree = [{"preference": _ranking("response-1", "response-2")}] * 2
    split = [{"preference": _ranking("response-1", "response-2")}, {"preference": _ranking("response-2", "response-1")}]
    await _answer(gql, created["id"], [agree, split, split])
    return str(created["id"])


async def test_what_unified_answers_calls_a_tie_makes_no_pair(gql: GraphQLClient) -> None:
    """Ranking majority used to turn 1-1 splits into pairs decided by who submitted first."""
    dataset_id = await comparison_with_splits(gql)
    for strategy in ("majority", "mean_rank"):
        unified = (await gql(UNIFIED, {"id": dataset_id, "q": "preference", "s": strategy}))["unifiedAnswers"]
        tied = sum(edge["node"]["tie"] for edge in unified["edges"])
        assert tied == 2
        for task, extra in (("reward_modeling", {}), ("dpo", {"best_vs_worst": "true"})):
            response = await download(gql, dataset_id, task, question="preference", strategy=strategy, **extra)
            rows = [json.loads(line) for line in response.text.splitlines()]
            assert [row["prompt"] for row in rows] == ["p0"], (strategy, task)
            rules = json.loads(response.headers["feedbackql-export-rules"])
            assert rules["counts"]["ties"] == tied
            assert "unifiedAnswers tie: true" in rules["ties"]
        data = (await gql(TRAINING, {"id": dataset_id, "task": "dpo",
                                     "o": {"question": "preference", "strategy": strategy}}))["trainingData"]
        assert (len(data["rows"]), data["ties"]) == (1, tied)


async def test_sft_with_strategy_none_gives_one_row_per_answer(gql: GraphQLClient) -> None:
    """A documented text strategy used to give an empty file."""
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    await _answer(gql, dataset_id, [[{"completion": {"text": "one"}}, {"completion": {"text": "two"}}]])
    data = (await gql(TRAINING, {"id": dataset_id, "task": "sft",
                                 "o": {"question": "completion", "strategy": "none"}}))["trainingData"]
    assert data["rows"] == [{"prompt": "p", "completion": "one"}, {"prompt": "p", "completion": "two"}]
    assert data["rules"]["rows"] == "one per submitted answer"


async def filtered_dataset(gql: GraphQLClient) -> str:
    """Four records needing two answers: r0 two agreeing, r1 two disagreeing, r2 one, r3 none."""
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="filtered", fields=[
        {"name": "prompt", "settings": h.TEXT}, {"name": "response-1", "settings": h.TEXT},
        {"name": "response-2", "settings": h.TEXT}],
        questions=[{"name": "preference", "settings": {"ranking": {"options": h.RANKING_OPTIONS}}},
                   {"name": "reply", "required": False, "settings": {"text": {}}}],
        metadataProperties=[{"name": "source", "kind": "TERMS"}], distribution={"minSubmitted": 2})
    await h.add_records(gql, created["id"], [{"externalId": f"r{i}", "metadata": {"source": "web" if i % 2 else "book"},
                                              "fields": {"prompt": f"p{i}", "response-1": "a", "response-2": "b"}}
                                             for i in range(4)])
    one, other = {"preference": _ranking("response-1", "response-2")}, {"preference": _ranking("response-2", "response-1")}
    await _answer(gql, created["id"], [[one, one], [one, other], [one], []])
    return str(created["id"])


async def test_filters_keep_finished_agreed_work(gql: GraphQLClient) -> None:
    dataset_id = await filtered_dataset(gql)
    default = await download(gql, dataset_id, "reward_modeling", question="preference", strategy="majority")
    assert [json.loads(line)["prompt"] for line in default.text.splitlines()] == ["p0", "p2"]  # r1 tied
    cases: list[tuple[dict[str, Any], list[str], dict[str, int]]] = [
        ({"completed_only": "true"}, ["p0"], {"not_completed": 2}),
        ({"min_submitted": "2"}, ["p0"], {"too_few_answers": 2}),
        ({"min_agreement": "0.9"}, ["p0"], {"low_agreement": 3}),
        ({"metadata": json.dumps([{"name": "source", "values": ["web"]}])}, [], {}),  # r1 tied, r3 no answer
        ({"metadata": json.dumps([{"name": "source", "values": ["book"]}])}, ["p0", "p2"], {"metadata": 2}),
    ]
    for params, prompts, filtered in cases:
        response = await download(gql, dataset_id, "reward_modeling", question="preference", strategy="majority",
                                  **params)
        if not prompts:
            assert response.status_code == 400
            error = response.json()["errors"][0]
            assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("VALIDATION", "no_rows")
            assert error["extensions"]["stats"]["filtered"] == {"metadata": 2}
            continue
        assert [json.loads(line)["prompt"] for line in response.text.splitlines()] == prompts, params
        rules = json.loads(response.headers["feedbackql-export-rules"])
        assert rules["counts"]["filtered"] == filtered, params
        assert rules["filters"]["completed_only"] is (params.get("completed_only") == "true")

    graphql = (await gql(TRAINING, {"id": dataset_id, "task": "dpo", "o": {"question": "preference"},
                                    "f": {"completedOnly": True, "metadata": [{"name": "source", "values": ["book"]}]}}
                         ))["trainingData"]
    assert [row["prompt"] for row in graphql["rows"]] == ["p0"]
    assert graphql["counts"]["filtered"] == {"not_completed": 2, "metadata": 1}  # the first filter that fails counts
    unified = (await gql(UNIFIED, {"id": dataset_id, "q": "preference", "f": {"minSubmitted": 2}}))["unifiedAnswers"]
    assert [edge["node"]["externalId"] for edge in unified["edges"]] == ["r0", "r1"]


async def test_filters_that_cannot_apply_or_leave_nothing_are_typed_errors(gql: GraphQLClient) -> None:
    dataset_id = await filtered_dataset(gql)
    nothing = await gql.error(TRAINING, {"id": dataset_id, "task": "dpo", "o": {"question": "preference"},
                                         "f": {"minSubmitted": 3}})
    assert (nothing["extensions"]["code"], nothing["extensions"]["reason"]) == ("VALIDATION", "no_rows")
    assert "too_few_answers" in nothing["message"]
    no_agreement = await gql.error(TRAINING, {"id": dataset_id, "task": "sft", "o": {"question": "reply"},
                                              "f": {"minAgreement": 0.5}})
    assert (no_agreement["extensions"]["path"], no_agreement["extensions"]["reason"]) == (
        ["min_agreement"], "no_agreement")
    for params, path in (({"implicit_prompt": "true"}, ["implicit_prompt"]),  # a text prompt: would join texts
                         ({"min_agreement": "2"}, ["min_agreement"]), ({"metadata": "source=web"}, ["metadata"]),
                         ({"min_submitted": "two"}, ["min_submitted"])):
        refused = await download(gql, dataset_id, "dpo", question="preference", **params)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["path"] == path


async def test_spreadsheet_safety_is_named_and_says_which_applied(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"externalId": "=1+1", "fields": {"prompt": "- apple\n- pear"}}])
    await _answer(gql, dataset_id, [[{"completion": {"text": "@here"}}]])
    cases: list[tuple[str, dict[str, str], dict[str, str]]] = [
        ("export", {}, {"external_id": "'=1+1"}),  # for people: safe by default
        ("export", {"spreadsheet_safe": "false"}, {"external_id": "=1+1"}),
        ("training/sft", {"question": "completion"}, {"prompt": "- apple\n- pear", "completion": "@here"}),
        ("training/sft", {"question": "completion", "spreadsheet_safe": "true"},
         {"prompt": "'- apple\n- pear", "completion": "'@here"}),
    ]
    for path, params, cells in cases:
        response = await gql.http.get(f"/datasets/{dataset_id}/{path}", params={"format": "csv", **params},
                                      headers={"Authorization": f"Bearer {OWNER_KEY}"})
        row = next(csv.DictReader(io.StringIO(response.text, newline="")))
        assert {name: row[name] for name in cells} == cells, (path, params)
        guarded = next(iter(cells.values())).startswith("'")
        stated = json.loads(response.headers["feedbackql-export-rules"])["csv"]["cells"]
        assert ("(spreadsheet_safe)" in stated) is guarded, (path, params, stated)
