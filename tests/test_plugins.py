"""Plugins: a separately installed distribution adds a kind; broken plugins stop start-up."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from feedbackql_server.api.schema import build_schema
from feedbackql_server.app import create_app
from feedbackql_server.kinds import QuestionKind, hookimpl
from feedbackql_server.kinds.registry import PluginError, load_registry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient


@pytest.fixture
async def gql_with_plugins(settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, load_registry())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield GraphQLClient(client, OWNER_KEY)


def test_installed_plugin_extends_schema() -> None:
    sdl = build_schema(load_registry()).as_str()
    assert "slider: Float" in sdl  # a ValueInput member
    assert "slider: SliderQuestionSettingsInput" in sdl
    assert "type SliderValue" in sdl
    assert "slider" not in build_schema(load_registry(builtin_only=True)).as_str()


async def test_plugin_kind_is_listed_and_validated(gql_with_plugins: GraphQLClient) -> None:
    gql = gql_with_plugins
    kinds = await gql("{ questionTypes { name plugin version agreement settingsSchema valueSchema } }")
    slider = next(k for k in kinds["questionTypes"] if k["name"] == "slider")
    assert slider["plugin"] == "slider"
    assert slider["version"] == "1.4.0"
    assert slider["valueSchema"] == {"type": "number"}
    assert set(slider["settingsSchema"]["properties"]) == {"min", "max", "step"}

    ws = await h.workspace(gql)
    error = await gql.error(h.CREATE_DATASET, {"input": {"workspaceId": ws, "name": "s", "questions": [
        {"name": "score", "settings": {"slider": {"min": 5, "max": 1}}}]}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert "min must be below max" in error["message"]

    created = await h.dataset(gql, ws, name="s", fields=[{"name": "prompt", "settings": h.TEXT}],
                              questions=[{"name": "score", "settings": {"slider": {"min": 0, "max": 1}}}])
    await h.add_records(gql, created["id"], [{"fields": {"prompt": "p"}}])
    page = await gql(h.RECORDS, {"id": created["id"], "first": 1})
    record_id = page["records"]["edges"][0]["node"]["id"]
    submit = """mutation($input: ResponseInput!) { submitResponse(input: $input) {
        values { value { ... on SliderValue { slider } } } } }"""
    bad = {"recordId": record_id, "status": "SUBMITTED",
           "values": [{"question": "score", "value": {"slider": 1.5}}]}
    error = await gql.error(submit, {"input": bad})
    assert error["extensions"]["code"] == "VALIDATION"
    assert "outside" in error["message"]
    good = {**bad, "values": [{"question": "score", "value": {"slider": 0.25}}]}
    data = await gql(submit, {"input": good})
    assert data["submitResponse"]["values"] == [{"value": {"slider": 0.25}}]


def _plugin(name: str, *kinds: Any) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def feedbackql_question_types() -> list[Any]:
        return list(kinds)

    module.feedbackql_question_types = feedbackql_question_types  # type: ignore[attr-defined]
    return module


def test_duplicate_kind_names_the_plugin() -> None:
    from feedbackql_plugins.rating_question import RatingQuestion

    class Copy(RatingQuestion):
        pass

    with pytest.raises(PluginError, match=r"plugin 'evil_plugin'.*'rating' is already registered"):
        load_registry(builtin_only=True, extra_plugins=[_plugin("evil_plugin", Copy)])


def test_missing_parts_name_the_plugin() -> None:
    class NoValue(QuestionKind):
        name = "broken"

    with pytest.raises(PluginError, match=r"plugin 'half_done'.*value_type"):
        load_registry(builtin_only=True, extra_plugins=[_plugin("half_done", NoValue)])


def test_not_a_kind_names_the_plugin() -> None:
    with pytest.raises(PluginError, match=r"plugin 'wrong'.*not a subclass of QuestionKind"):
        load_registry(builtin_only=True, extra_plugins=[_plugin("wrong", dict)])


def test_misspelt_hook_names_the_plugin() -> None:
    module = types.ModuleType("typo")

    @hookimpl
    def feedbackql_question_type() -> list[Any]:
        return []

    module.feedbackql_question_type = feedbackql_question_type  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="typo"):
        load_registry(builtin_only=True, extra_plugins=[module])
