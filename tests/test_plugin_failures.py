"""A plugin's own exception, wherever the core calls it, is logged with its traceback and a
request id, and reaches the client as PLUGIN_ERROR naming the kind, the plugin and its
version; a failing ``migrate_settings`` never lets a dataset be created or published."""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import AsyncIterator, Hashable, Iterable
from typing import Any

import pytest

from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, Unified, hookimpl
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient, serve


class FlakySettings(KindModel):
    """Settings of the flaky kind."""

    most: int = 5


def flaky_plugin(version: str, *, fail_in: str = "") -> types.ModuleType:
    """A plugin whose ``fail_in`` method raises an unexpected exception (as a bug would)."""

    def boom(*_args: Any) -> Any:
        raise RuntimeError("secret internal detail at /srv/db")

    class Flaky(QuestionKind):
        name = "flaky"
        settings_model = FlakySettings
        value_type = int
        agreement = Agreement.NOMINAL
        strategies = ("max",)

        def unify(self, settings: Any, answers: Any, strategy: str) -> Unified:
            return Unified(max(answers) if answers else None)

        def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
            return [("", answer)]

    if fail_in:
        setattr(Flaky, fail_in, boom)
    plugin = types.ModuleType("flaky_plugin")
    plugin.__version__ = version  # type: ignore[attr-defined]

    @hookimpl
    def feedbackql_question_types() -> list[type[QuestionKind]]:
        return [Flaky]

    plugin.feedbackql_question_types = feedbackql_question_types  # type: ignore[attr-defined]
    return plugin


@contextlib.asynccontextmanager
async def server(settings: Settings, plugin: types.ModuleType) -> AsyncIterator[GraphQLClient]:
    async with serve(settings, load_registry(builtin_only=True, extra_plugins=[plugin])) as client:
        yield client


QUESTIONS = [{"name": "completion", "settings": {"text": {}}}, {"name": "score", "settings": {"flaky": {}}}]
DATASETS = "query($ws: ID!) { datasets(workspaceId: $ws) { name status } }"
UNIFIED = """query($id: ID!) { unifiedAnswers(datasetId: $id, question: "score") { edges { node { value } } } }"""
AGREEMENT = """query($id: ID!) { agreement(datasetId: $id, question: "score") { alpha } }"""


def assert_named_and_logged(error: dict[str, Any], caplog: pytest.LogCaptureFixture, version: str) -> None:
    assert error["extensions"]["code"] == "PLUGIN_ERROR", error
    assert error["extensions"]["kind"] == "flaky"
    assert error["extensions"]["plugin"] == "flaky_plugin"
    assert error["extensions"]["version"] == version
    assert f"flaky kind of plugin flaky_plugin {version}" in error["message"]
    request_id = error["extensions"]["requestId"]
    assert request_id in error["message"]
    assert "secret" not in str(error)
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged, "the failure is logged with the request id"
    assert logged[0].exc_info is not None, "with its traceback"


async def _create_broken(gql: Any, ws: str, caplog: pytest.LogCaptureFixture) -> Any:
    """The error of creating a dataset with the flaky plugin's question, its log captured."""
    spec = {"workspaceId": ws, "name": "broken", "fields": [{"name": "prompt", "settings": h.TEXT}],
            "questions": QUESTIONS}
    with caplog.at_level(logging.ERROR, logger="feedbackql_server.plugins"):
        return await gql.error(h.CREATE_DATASET, {"input": spec})


async def test_a_failing_migrate_settings_refuses_create_dataset(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with server(settings, flaky_plugin("1.0", fail_in="migrate_settings")) as gql:
        ws = await h.workspace(gql)
        error = await _create_broken(gql, ws, caplog)
        assert_named_and_logged(error, caplog, "1.0")
        assert error["extensions"]["path"] == ["questions", 1, "settings"]
        assert (await gql(DATASETS, {"ws": ws}))["datasets"] == []


async def test_a_failing_migrate_settings_refuses_publish_dataset(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with server(settings, flaky_plugin("1.0")) as gql:
        ws = await h.workspace(gql)
        created = await h.dataset(gql, ws, publish=False, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=QUESTIONS)
    async with server(settings, flaky_plugin("2.0", fail_in="migrate_settings")) as gql:
        with caplog.at_level(logging.ERROR, logger="feedbackql_server.plugins"):
            error = await gql.error(h.PUBLISH, {"id": created["id"]})
        assert_named_and_logged(error, caplog, "2.0")
        assert (await gql(DATASETS, {"ws": ws}))["datasets"] == [{"name": "sft", "status": "DRAFT"}]


async def test_a_failing_check_settings_is_named_with_a_request_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with server(settings, flaky_plugin("1.0", fail_in="check_settings")) as gql:
        ws = await h.workspace(gql)
        error = await _create_broken(gql, ws, caplog)
        assert_named_and_logged(error, caplog, "1.0")


async def answered_twice(gql: GraphQLClient) -> str:
    dataset_id = await h.sft_dataset(gql, questions=QUESTIONS)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    record_id = (await gql(h.RECORDS, {"id": dataset_id, "first": 1}))["records"]["edges"][0]["node"]["id"]
    other = await h.new_user(gql, "other", workspaces=[await h.workspace_of(gql, dataset_id)])
    for labeler, score in ((gql, 3), (other, 4)):
        await labeler(h.SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED", "values": [
            {"question": "completion", "value": {"text": "t"}}, {"question": "score", "value": {"flaky": score}}]}})
    return dataset_id


@pytest.mark.parametrize(("method", "query"), [("unify", UNIFIED), ("agreement_units", AGREEMENT),
                                               ("migrate_value", UNIFIED)], ids=["unify", "agreement", "migrate"])
async def test_a_failure_while_reading_answers_is_named_and_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture, method: str, query: str
) -> None:
    async with server(settings, flaky_plugin("1.0")) as gql:
        dataset_id = await answered_twice(gql)
    async with server(settings, flaky_plugin("1.1", fail_in=method)) as gql:
        with caplog.at_level(logging.ERROR, logger="feedbackql_server.plugins"):
            error = await gql.error(query, {"id": dataset_id})
        assert_named_and_logged(error, caplog, "1.1")
