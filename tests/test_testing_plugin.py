"""The testing support for plugin authors (feedbackql_server.testing) on the built-in kinds, and
its place beside this repository's own fixtures."""

from __future__ import annotations

import ast
import base64
import inspect
import types
from pathlib import Path

import pytest

from feedbackql_server.kinds import KindModel, QuestionKind, hookimpl
from feedbackql_server.testing import (
    FeedbackQLClient,
    check_field_kind,
    check_question_kind,
    pytest_plugin,
    startup_error,
)

TESTS = Path(__file__).resolve().parent
PROMPT = {"name": "prompt", "settings": {"text": {}}}
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + bytes(8)).decode()


def test_the_contract_check_passes_for_built_in_questions(feedbackql_client: FeedbackQLClient) -> None:
    check_question_kind(feedbackql_client, "rating", {"values": [1, 2, 3]}, [1, 3, 3],
                        invalid_answers=[7], invalid_settings=[{"values": [1]}])
    check_question_kind(feedbackql_client, "label", {"options": [{"value": "a", "text": "A"},
                                                                 {"value": "b", "text": "B"}]}, ["a", "b"],
                        invalid_answers=["c"])


def test_the_contract_check_passes_for_built_in_fields(feedbackql_client: FeedbackQLClient) -> None:
    check_field_kind(feedbackql_client, "image", {}, ["https://example.org/a.png", PNG],
                     invalid_values=["javascript:alert(1)"])
    check_field_kind(feedbackql_client, "custom", {"template": "<b>{{ x }}</b>"}, [{"values": {"x": 1}}],
                     invalid_values=[{"values": {}}], invalid_settings=[{"template": "<b>none</b>"}])


def test_the_contract_check_takes_the_datasets_fields_and_a_record(feedbackql_client: FeedbackQLClient) -> None:
    """The span kind's settings name a field and its answers mark that field's text: the check
    can only run it on the dataset and record given."""
    labels = [{"value": "PER", "text": "Person"}, {"value": "LOC", "text": "Location"}]
    ada, paris = {"start": 0, "end": 3, "label": "PER"}, {"start": 7, "end": 12, "label": "LOC"}
    check_question_kind(feedbackql_client, "span", {"field": "text", "labels": labels}, [[ada, paris], [ada]],
                        fields=[{"name": "text", "settings": {"text": {}}}], record={"text": "Ada in Paris"},
                        invalid_answers=[[{"start": 7, "end": 40, "label": "LOC"}]],
                        invalid_settings=[{"field": "missing", "labels": labels}])
    check_field_kind(feedbackql_client, "text", {}, ["a response"], fields=[PROMPT], record={"prompt": "p"},
                     invalid_values=[7])


def test_the_contract_check_reports_a_kind_that_breaks_its_promise(feedbackql_client: FeedbackQLClient) -> None:
    with pytest.raises(AssertionError, match=r"invalid answer #0 \(2\): expected a VALIDATION error"):
        check_question_kind(feedbackql_client, "rating", {"values": [1, 2, 3]}, [1, 2], invalid_answers=[2])
    with pytest.raises(AssertionError, match="kind 'nope' is not listed"):
        check_question_kind(feedbackql_client, "nope", {}, [1, 2])


def test_each_client_gets_a_database_of_its_own(feedbackql_client: FeedbackQLClient) -> None:
    assert feedbackql_client("{ workspaces { id } }") == {"workspaces": []}


def _fixtures_defined_in(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                "fixture" in ast.unparse(d) for d in node.decorator_list):
            names.add(node.name)
    return names


def test_the_plugin_fixtures_are_prefixed_and_clash_with_none_of_ours() -> None:
    ours = set().union(*(_fixtures_defined_in(p) for p in TESTS.rglob("*.py")))
    theirs = {name for name, fn in inspect.getmembers(pytest_plugin) if hasattr(fn, "_fixture_function_marker")
              or type(fn).__name__ == "FixtureFunctionDefinition"}
    assert theirs == {"feedbackql_plugins", "feedbackql_registry", "feedbackql_database_uri", "feedbackql_client"}
    assert ours & theirs == set()


def test_the_pytest_plugin_imports_nothing_of_the_service() -> None:
    """pytest loads the plugin in every session of any project where the server is installed:
    loading it must not import the service (about a second) unless a test asks for a fixture."""
    import subprocess
    import sys

    code = ("import sys, feedbackql_server.testing.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('feedbackql_server.', 'strawberry', 'pymongo'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['feedbackql_server.testing', 'feedbackql_server.testing.pytest_plugin']"


def _plugin(name: str, kind: type) -> types.ModuleType:
    module = types.ModuleType(name)
    module.feedbackql_question_types = hookimpl(lambda: [kind])  # type: ignore[attr-defined]
    return module


class _KindSetting(KindModel):
    kind: str = "x"


class _Broken(QuestionKind):
    name = "broken"
    settings_model = _KindSetting
    value_type = int


class _Healthy(QuestionKind):
    name = "healthy"
    value_type = int


def test_startup_error_gives_a_broken_plugins_message_as_serve_would() -> None:
    message = startup_error(_plugin("broken_plugin", _Broken), match=r"settings field named 'kind'")
    assert message.startswith("plugin 'broken_plugin' (registered in-process): question kind 'broken'")
    with pytest.raises(AssertionError, match="expected start-up to fail with a PluginError, but it succeeded"):
        startup_error(_plugin("healthy_plugin", _Healthy))
    with pytest.raises(AssertionError, match="the start-up error does not match 'widget'"):
        startup_error(_plugin("broken_plugin", _Broken), match="widget")
