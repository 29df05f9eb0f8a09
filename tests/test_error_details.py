"""Validation errors report every problem at once, each with its question, a machine-readable
reason and a path in the schema's names; a version conflict carries the current response; each
question publishes a JSON Schema of its answers with its settings applied."""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from feedbackql_server.kinds import KindModel, QuestionKind, hookimpl
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient, serve

OPTIONS = [{"value": "pos", "text": "Positive"}, {"value": "neg", "text": "Negative"}]
QUESTIONS = [
    {"name": "quality", "settings": {"rating": {"values": [1, 2, 3]}}},
    {"name": "sentiment", "settings": {"label": {"options": OPTIONS}}},
    {"name": "topics", "settings": {"multiLabel": {"options": OPTIONS}}},
    {"name": "preference", "settings": {"ranking": {"options": OPTIONS}}},
    {"name": "completion", "settings": {"text": {}}},
]
SCHEMAS = "query($id: ID!) { dataset(id: $id) { questions { name answerSchema } } }"
QUESTION_TYPES = "{ questionTypes { name settingsSchema } }"


async def labeled(gql: GraphQLClient) -> tuple[str, str]:
    ws = await h.workspace(gql)
    dataset = await h.dataset(gql, ws, name="many", fields=[{"name": "prompt", "settings": h.TEXT}],
                              questions=QUESTIONS)
    await h.add_records(gql, dataset["id"], [{"fields": {"prompt": "p"}}])
    record = (await gql(h.RECORDS, {"id": dataset["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
    return dataset["id"], record


def submit(record: str, values: Sequence[tuple[str, dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    return {"input": {"recordId": record, "status": "SUBMITTED",
                      "values": [{"question": q, "value": v} for q, v in values], **extra}}


async def test_every_problem_is_reported_with_its_question_and_reason(gql: GraphQLClient) -> None:
    _, record = await labeled(gql)
    error = await gql.error(h.SUBMIT, submit(record, [("quality", {"rating": 9}), ("sentiment", {"label": "meh"}),
                                                      ("topics", {"label": "pos"})]))
    extensions = error["extensions"]
    assert extensions["code"] == "VALIDATION"
    problems = {(e["question"], e["reason"], tuple(e["path"])) for e in extensions["errors"]}
    assert problems == {
        ("quality", "not_in_scale", ("values", 0, "value", "rating")),
        ("sentiment", "unknown_option", ("values", 1, "value", "label")),
        ("topics", "wrong_kind", ("values", 2, "value")),
        ("preference", "required", ("values",)),
        ("completion", "required", ("values",)),
    }
    assert (extensions["question"], extensions["path"]) == ("quality", ["values", 0, "value", "rating"])
    assert error["message"].startswith("5 problems: ")
    assert "required question 'completion'" in error["message"]


async def test_a_conflict_carries_the_current_response(gql: GraphQLClient) -> None:
    _, record = await labeled(gql)
    values = [("quality", {"rating": 2}), ("sentiment", {"label": "pos"}), ("topics", {"multiLabel": ["neg"]}),
              ("preference", {"ranking": [{"value": "pos", "rank": 1}, {"value": "neg", "rank": 2}]}),
              ("completion", {"text": "fine"})]
    first = (await gql(h.SUBMIT, submit(record, values, expectedVersion=0)))["submitResponse"]
    again = await gql.error(h.SUBMIT, submit(record, values, expectedVersion=0))
    extensions = again["extensions"]
    assert extensions["code"] == "CONFLICT"
    assert extensions["currentVersion"] == first["version"]
    current = extensions["currentResponse"]
    assert (current["id"], current["status"], current["version"]) == (first["id"], "SUBMITTED", first["version"])
    assert {"question": "quality", "json": 2} in current["values"]
    retried = await gql(h.SUBMIT, submit(record, values, expectedVersion=extensions["currentVersion"]))
    assert retried["submitResponse"]["version"] == first["version"] + 1


async def test_answer_schemas_reflect_the_settings(gql: GraphQLClient) -> None:
    dataset, _ = await labeled(gql)
    schemas = {q["name"]: q["answerSchema"] for q in (await gql(SCHEMAS, {"id": dataset}))["dataset"]["questions"]}
    assert schemas["sentiment"]["enum"] == ["pos", "neg"]
    assert schemas["topics"]["items"]["enum"] == ["pos", "neg"]
    assert (schemas["quality"]["minimum"], schemas["quality"]["maximum"], schemas["quality"]["enum"]) == (1, 3, [1, 2, 3])
    ranked = schemas["preference"]
    assert (ranked["minItems"], ranked["maxItems"]) == (2, 2)
    assert ranked["items"]["properties"]["value"]["enum"] == ["pos", "neg"]
    assert ranked["items"]["properties"]["rank"]["maximum"] == 2
    assert schemas["completion"]["type"] == "string"
    kinds = {k["name"]: k["settingsSchema"] for k in (await gql(QUESTION_TYPES))["questionTypes"]}
    assert kinds["rating"]["properties"]["values"]["title"] == "Rating scale"
    assert kinds["text"]["properties"]["useMarkdown"]["title"] == "Render as markdown"
    assert kinds["span"]["properties"]["allowOverlapping"]["title"] == "Allow overlapping spans"


class PinSettings(KindModel):
    """Labels for pins on an image."""

    point_labels: Annotated[list[str], Field(min_length=2)]


class Pin(KindModel):
    point_label: str
    x_position: Annotated[float, Field(ge=0, le=1)]


class PinQuestion(QuestionKind):
    name = "pins"
    settings_model = PinSettings
    value_type = list[Pin]


def pins_plugin() -> types.ModuleType:
    plugin = types.ModuleType("pins_plugin")

    @hookimpl
    def feedbackql_question_types() -> list[type[QuestionKind]]:
        return [PinQuestion]

    plugin.feedbackql_question_types = feedbackql_question_types  # type: ignore[attr-defined]
    return plugin


async def test_paths_use_the_schema_names(settings: Settings) -> None:
    async with serve(settings, load_registry(builtin_only=True, extra_plugins=[pins_plugin()])) as gql:
        ws = await h.workspace(gql)
        spec = {"workspaceId": ws, "name": "pins", "fields": [{"name": "image", "settings": h.TEXT}],
                "questions": [{"name": "where", "settings": {"pins": {"pointLabels": ["eye"]}}}]}
        error = await gql.error(h.CREATE_DATASET, {"input": spec})
        assert error["extensions"]["path"] == ["questions", 0, "settings", "pins", "pointLabels"]
        assert error["extensions"]["reason"] == "too_short"
        assert error["extensions"]["question"] == "where"
        spec["questions"] = [{"name": "where", "settings": {"pins": {"pointLabels": ["eye", "nose"]}}}]
        dataset = await h.dataset(gql, ws, **{k: v for k, v in spec.items() if k != "workspaceId"})
        await h.add_records(gql, dataset["id"], [{"fields": {"image": "a face"}}])
        record = (await gql(h.RECORDS, {"id": dataset["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
        bad = await gql.error(h.SUBMIT, submit(record, [("where", {"pins": [{"pointLabel": "eye", "xPosition": 2}]})]))
        assert bad["extensions"]["path"] == ["values", 0, "value", "pins", 0, "xPosition"]
