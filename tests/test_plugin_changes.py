"""A plugin that goes away or changes must never cost stored answers, nor break other questions."""

from __future__ import annotations

import contextlib
import types
from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field, model_validator

from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, Unified, hookimpl
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient, serve

DATASET = """query($id: ID!) { dataset(id: $id) { questions { name available settingsJson
  settings { __typename ... on UnavailableKindSettings { kind reason } } } } }"""
ANSWERS = """query($id: ID!) { record(id: $id) { suggestions { question json value { __typename } }
  responses { values { question json value { __typename ... on UnavailableValue { kind } } } } } }"""
UNIFIED = """query($id: ID!, $q: String!) { unifiedAnswers(datasetId: $id, question: $q) {
  edges { node { value } } } }"""


class StarsV1(KindModel):
    """1.0: a maximum number of stars."""

    most: int


class StarsV2(KindModel):
    """2.0: a maximum and a required style; 1.0 settings read as style "classic"."""

    most: int
    style: str


def stars_plugin(version: str, model: type[KindModel], *, migrates: bool) -> types.ModuleType:
    class Stars(QuestionKind):
        name = "stars"
        settings_model = model
        value_type = int
        agreement = Agreement.INTERVAL
        strategies = ("max",)

        def migrate_settings(self, stored: dict[str, Any], stored_version: str | None) -> dict[str, Any]:
            if migrates and stored_version == "1.0":
                return {**stored, "style": "classic"}
            return stored

        def unify(self, settings: Any, answers: Any, strategy: str) -> Unified:
            return Unified(max(answers) if answers else None)

    plugin = types.ModuleType("stars_plugin")
    plugin.__version__ = version  # type: ignore[attr-defined]

    @hookimpl
    def feedbackql_question_types() -> list[type[QuestionKind]]:
        return [Stars]

    plugin.feedbackql_question_types = feedbackql_question_types  # type: ignore[attr-defined]
    return plugin


@contextlib.asynccontextmanager
async def server(settings: Settings, *plugins: types.ModuleType) -> AsyncIterator[GraphQLClient]:
    async with serve(settings, load_registry(builtin_only=True, extra_plugins=plugins)) as client:
        yield client


async def answered(gql: GraphQLClient) -> dict[str, str]:
    dataset_id = await h.sft_dataset(gql, questions=[
        {"name": "completion", "settings": {"text": {}}},
        {"name": "stars", "required": False, "settings": {"stars": {"most": 5}}}])
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}, "suggestions": [
        {"question": "stars", "value": {"stars": 4}, "agent": "m"}]}])
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 1})
    record_id = page["records"]["edges"][0]["node"]["id"]
    await gql("""mutation($r: ID!) { submitResponse(input: {recordId: $r, status: SUBMITTED, values: [
      {question: "completion", value: {text: "an answer"}}, {question: "stars", value: {stars: 3}}]}) { id } }""",
              {"r": record_id})
    return {"dataset": dataset_id, "record": record_id}


TEXT_ONLY = """mutation($r: ID!) { submitResponse(input: {recordId: $r, status: SUBMITTED,
  values: [{question: "completion", value: {text: "rewritten"}}]}) { id } }"""


async def test_a_question_of_a_missing_plugin_stays_visible_and_keeps_its_answers(settings: Settings) -> None:
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:
        ids = await answered(gql)
    async with server(settings) as gql:  # the plugin was uninstalled
        questions = (await gql(DATASET, {"id": ids["dataset"]}))["dataset"]["questions"]
        stars = next(q for q in questions if q["name"] == "stars")
        assert stars["available"] is False
        assert stars["settingsJson"] == {"most": 5}
        assert stars["settings"]["__typename"] == "UnavailableKindSettings"
        record = (await gql(ANSWERS, {"id": ids["record"]}))["record"]
        assert record["suggestions"] == [{"question": "stars", "json": 4, "value": {"__typename": "UnavailableValue"}}]
        values = {v["question"]: v for v in record["responses"][0]["values"]}
        assert values["stars"]["json"] == 3
        assert values["stars"]["value"]["kind"] == "stars"
        error = await gql.error(TEXT_ONLY, {"r": ids["record"]})  # would drop the stars answer
        assert error["extensions"]["code"] == "PLUGIN_UNAVAILABLE"
        assert "stars_plugin" in error["message"]
        deleted = await gql.error("mutation($r: ID!) { deleteResponse(recordId: $r) }", {"r": ids["record"]})
        assert deleted["extensions"]["code"] == "PLUGIN_UNAVAILABLE"
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:  # it is back
        values = (await gql(ANSWERS, {"id": ids["record"]}))["record"]["responses"][0]["values"]
        assert {v["question"]: v["json"] for v in values} == {"completion": "an answer", "stars": 3}


async def test_an_upgrade_migrates_stored_settings_or_fails_only_its_question(settings: Settings) -> None:
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:
        ids = await answered(gql)
    async with server(settings, stars_plugin("2.0", StarsV2, migrates=True)) as gql:
        questions = (await gql(DATASET, {"id": ids["dataset"]}))["dataset"]["questions"]
        assert next(q for q in questions if q["name"] == "stars")["available"] is True
        # Widgets and the SDK read settingsJson: it has the shape the installed version reads.
        assert next(q for q in questions if q["name"] == "stars")["settingsJson"] == {"most": 5, "style": "classic"}
        unified = await gql(UNIFIED, {"id": ids["dataset"], "q": "stars"})
        assert unified["unifiedAnswers"]["edges"][0]["node"]["value"] == 3
    async with server(settings, stars_plugin("2.0", StarsV2, migrates=False)) as gql:
        questions = (await gql(DATASET, {"id": ids["dataset"]}))["dataset"]["questions"]
        broken = next(q for q in questions if q["name"] == "stars")
        assert broken["available"] is False
        assert "2.0" in broken["settings"]["reason"]
        error = await gql.error(UNIFIED, {"id": ids["dataset"], "q": "stars"})
        assert error["extensions"]["code"] == "PLUGIN_UNAVAILABLE"
        assert error["extensions"]["plugin"] == "stars_plugin"
        assert error["extensions"]["storedVersion"] == "1.0"
        # The other question still works: unification, and answers that keep the stars answer.
        text = await gql(UNIFIED, {"id": ids["dataset"], "q": "completion"})
        assert text["unifiedAnswers"]["edges"][0]["node"]["value"] == "an answer"
        await h.add_records(gql, ids["dataset"], [{"fields": {"prompt": "another"}}])


async def test_migrate_settings_gets_none_from_a_plugin_without_a_version(settings: Settings) -> None:
    seen: list[str | None] = []
    unversioned = stars_plugin("1.0", StarsV1, migrates=False)
    del unversioned.__version__  # type: ignore[attr-defined]
    kind = unversioned.feedbackql_question_types()[0]
    original = kind.migrate_settings

    def recording(self: Any, stored: dict[str, Any], version: str | None) -> dict[str, Any]:
        seen.append(version)
        return original(self, stored, version)

    kind.migrate_settings = recording
    async with server(settings, unversioned) as gql:
        ids = await answered(gql)
        questions = (await gql(DATASET, {"id": ids["dataset"]}))["dataset"]["questions"]
    assert next(q for q in questions if q["name"] == "stars")["available"] is True
    assert seen
    assert set(seen) == {None}


class StarsRenamed(KindModel):
    """3.0: `most` renamed `top`, with a default (and no migration, the mistake under test)."""

    top: int = 10


async def test_a_renamed_setting_makes_the_question_unavailable_instead_of_reverting_to_its_default(
    settings: Settings,
) -> None:
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:
        ids = await answered(gql)
    async with server(settings, stars_plugin("3.0", StarsRenamed, migrates=False)) as gql:
        questions = (await gql(DATASET, {"id": ids["dataset"]}))["dataset"]["questions"]
        stars = next(q for q in questions if q["name"] == "stars")
        assert stars["available"] is False
        assert stars["settingsJson"] == {"most": 5}
        assert "the installed version (3.0) cannot read its stored settings" in stars["settings"]["reason"]
        assert "most" in stars["settings"]["reason"]


NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
PROBLEMS = """query($id: ID!) { dataset(id: $id) { problems { item family kind plugin storedVersion reason
  required blocksLabeling } } }"""


async def test_no_records_are_handed_out_while_a_required_question_is_unavailable(settings: Settings) -> None:
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:
        ws = await h.workspace(gql, "required")
        required = (await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                                    questions=[{"name": "stars", "settings": {"stars": {"most": 5}}}]))["id"]
        await h.add_records(gql, required, [{"fields": {"prompt": "p"}}])
        optional = (await answered(gql))["dataset"]
        await h.add_records(gql, optional, [{"fields": {"prompt": "unanswered"}}])
    async with server(settings) as gql:  # the plugin was uninstalled
        error = await gql.error(NEXT, {"id": required})
        assert error["extensions"]["code"] == "PLUGIN_UNAVAILABLE"
        assert error["extensions"]["reason"] == "required_question_unavailable"
        assert error["extensions"]["question"] == "stars"
        assert error["message"].startswith("the records of dataset 'sft' cannot be answered now: its required "
                                           "question 'stars' (stars) is unavailable: no installed plugin provides")
        problems = (await gql(PROBLEMS, {"id": required}))["dataset"]["problems"]
        assert problems == [{"item": "stars", "family": "question", "kind": "stars", "plugin": "stars_plugin",
                             "storedVersion": "1.0", "reason": problems[0]["reason"], "required": True,
                             "blocksLabeling": True}]
        # An optional question of a missing kind blocks nothing: its dataset is still labeled.
        assert len((await gql(NEXT, {"id": optional}))["nextRecords"]) == 1
        (problem,) = (await gql(PROBLEMS, {"id": optional}))["dataset"]["problems"]
        assert (problem["item"], problem["blocksLabeling"]) == ("stars", False)
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:  # it is back
        assert (await gql(PROBLEMS, {"id": required}))["dataset"]["problems"] == []
        assert len((await gql(NEXT, {"id": required}))["nextRecords"]) == 1


class StarsTop(KindModel):
    """4.0: `most` is now `top`; `most` is kept, deprecated, for clients written against 1.0."""

    top: int = 5  # a default, so that an old client may send only `most`
    most: int | None = Field(None, deprecated="renamed `top` in 4.0; removed in 6.0")

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        """Either name sets both, so old and new clients read the same value."""
        if isinstance(data, dict):
            value = data.get("top", data.get("most", 5))
            return {**data, "top": value, "most": value}
        return data


async def test_a_deprecated_setting_name_keeps_old_clients_working(settings: Settings) -> None:
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:
        ids = await answered(gql)
    old_client = """query($id: ID!) { dataset(id: $id) { questions { settingsJson
      settings { ... on StarsQuestionSettings { most } } } } }"""
    async with server(settings, stars_plugin("4.0", StarsTop, migrates=False)) as gql:
        stars = (await gql(old_client, {"id": ids["dataset"]}))["dataset"]["questions"][1]
        assert stars["settings"] == {"most": 5}
        assert stars["settingsJson"] == {"top": 5, "most": 5}
        ws = await h.workspace(gql, "old-client")
        created = await h.dataset(gql, ws, publish=False, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=[{"name": "stars", "settings": {"stars": {"most": 3}}}])
        new_client = """query($id: ID!) { dataset(id: $id) { questions { settings {
          ... on StarsQuestionSettings { top } } } } }"""
        assert (await gql(new_client, {"id": created["id"]}))["dataset"]["questions"][0]["settings"] == {"top": 3}
        assert created["questions"][0]["settings"] == {"__typename": "StarsQuestionSettings"}
        sdl = (await gql("{ __type(name: \"StarsQuestionSettings\") { fields(includeDeprecated: true) "
                         "{ name isDeprecated deprecationReason } } }"))["__type"]["fields"]
        assert {"name": "most", "isDeprecated": True,
                "deprecationReason": "renamed `top` in 4.0; removed in 6.0"} in sdl
