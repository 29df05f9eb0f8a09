"""Start-up errors: every load and schema problem is a PluginError naming the entry point and the
distribution; likely mistakes get a warning; forgiving where nothing is ambiguous."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from feedbackql_server.api.schema import build_schema
from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, hookimpl
from feedbackql_server.kinds.hook_checks import PluginWarning
from feedbackql_server.kinds.names import CORE_TYPE_NAMES, kind_type_names, model_type_names, nested_models
from feedbackql_server.kinds.registry import KindRegistry, PluginError, load_registry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import serve
from tests.distributions import fake_distribution


def plugin(name: str, *kinds: Any, hook: str = "feedbackql_question_types",
           mark: bool = True, function: Callable[..., Any] | None = None) -> types.ModuleType:
    module = types.ModuleType(name)

    def question_types() -> list[Any]:
        return list(kinds)

    impl = function or question_types
    setattr(module, hook, hookimpl(impl) if mark else impl)
    return module


def load(*plugins: types.ModuleType) -> KindRegistry:
    return load_registry(builtin_only=True, extra_plugins=plugins)


class Thumbs(QuestionKind):
    name = "thumbs"
    description = "Thumbs up or down."
    value_type = bool
    agreement = "nominal"  # type: ignore[assignment]  # a plain string is accepted


def test_a_hook_with_an_extra_argument_is_a_plugin_error() -> None:
    def feedbackql_question_types(dataset: Any) -> list[Any]:
        return []

    with pytest.raises(PluginError, match=r"^plugin 'extra_arg' \(registered in-process\): .*dataset"):
        load(plugin("extra_arg", function=feedbackql_question_types))


@pytest.mark.parametrize(("kind_name", "clash"), [("response", "ResponseValue"), ("unavailable", "UnavailableValue")])
def test_a_kind_named_like_a_core_type_is_refused_before_the_schema_is_built(kind_name: str, clash: str) -> None:
    kind = type("Clash", (QuestionKind,), {"name": kind_name, "value_type": int})
    with pytest.raises(PluginError, match=rf"^plugin 'clash' .*{kind_name!r} would add the GraphQL type "
                                          rf"'{clash}', which is a core type"):
        load(plugin("clash", kind))


def test_a_nested_model_named_like_another_plugins_model_names_both_plugins() -> None:
    def kind_with(name: str, model_name: str) -> type[QuestionKind]:
        model = type(model_name, (KindModel,), {"__annotations__": {"x": int}})
        return type("K", (QuestionKind,), {"name": name, "value_type": model})

    with pytest.raises(PluginError, match=r"plugin 'second'.*'Point', which plugin 'first' .* already adds"):
        load(plugin("first", kind_with("one", "Point")), plugin("second", kind_with("two", "Point")))


def test_two_kinds_cannot_share_a_settings_model() -> None:
    from feedbackql_plugins.rating_question import RatingQuestionSettings

    shared = type("Shared", (QuestionKind,), {"name": "shared", "value_type": int,
                                              "settings_model": RatingQuestionSettings})
    with pytest.raises(PluginError, match=r"plugin 'sharer' .*'shared' has the settings model of kind 'rating' "
                                          r"\(plugin 'rating_question' .*a subclass will do"):
        load(plugin("sharer", shared))
    # Subclasses of a kind without settings get an empty model of their own.
    child = type("Child", (Thumbs,), {"name": "child"})
    assert child.settings_model is not Thumbs.settings_model
    assert {"thumbs", "child"} <= set(load(plugin("family", Thumbs, child)).questions)


def test_core_type_names_are_exactly_the_schema_types_no_kind_adds() -> None:
    registry = load_registry(builtin_only=True)
    from_kinds: set[str] = set()
    for category, entries in (("field", registry.fields), ("question", registry.questions)):
        for name, entry in entries.items():
            from_kinds.update(kind_type_names(category, name))
            models = [*nested_models(entry.kind.value_type)] if category == "question" else []
            for info in entry.kind.settings_model.model_fields.values():
                models.extend(nested_models(info.annotation))
            from_kinds.update(n for model in models for n in model_type_names(model))
    schema_names = {n for n in build_schema(registry)._schema.type_map if not n.startswith("__")}
    assert schema_names - from_kinds == CORE_TYPE_NAMES


def test_a_copy_of_a_builtin_blames_the_newcomer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "aaa" sorts before every built-in entry point: the order of loading must not matter.
    fake_distribution(tmp_path, "feedbackql-copycat", "0.9", {"aaa": "copycat"}, {"copycat": """
        from feedbackql_plugins.rating_question import RatingQuestion
        from feedbackql_server.kinds import hookimpl

        class Copy(RatingQuestion):
            pass

        @hookimpl
        def feedbackql_question_types():
            return [Copy]
        """})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match=r"^plugin 'aaa' \(distribution feedbackql-copycat 0.9\): question kind "
                                          r"'rating' is already registered by plugin 'rating_question' "
                                          r"\(distribution feedbackql-server"):
        load_registry()


PAIRWISE = """
    from feedbackql_server.kinds import QuestionKind, hookimpl

    class Pairwise(QuestionKind):
        name = "pairwise"
        value_type = str

    @hookimpl
    def feedbackql_question_types():
        return [Pairwise]
    """


def test_a_kind_name_clash_blames_the_distribution_installed_last(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployed plugin keeps working; the newcomer, whatever its name sorts as, is refused."""
    deployed = fake_distribution(tmp_path / "old", "feedbackql-zeta", "2.0", {"zeta": "zeta_pairwise"},
                                 {"zeta_pairwise": PAIRWISE})
    newcomer = fake_distribution(tmp_path / "new", "feedbackql-alpha", "1.0", {"alpha": "alpha_pairwise"},
                                 {"alpha_pairwise": PAIRWISE})
    os.utime(deployed / "feedbackql_zeta-2.0.dist-info" / "METADATA", (1_700_000_000, 1_700_000_000))
    os.utime(newcomer / "feedbackql_alpha-1.0.dist-info" / "METADATA", (1_760_000_000, 1_760_000_000))
    monkeypatch.syspath_prepend(str(deployed))
    monkeypatch.syspath_prepend(str(newcomer))
    with pytest.raises(PluginError) as raised:
        load_registry()
    assert str(raised.value) == (
        "plugin 'alpha' (distribution feedbackql-alpha 1.0): question kind 'pairwise' is already registered by "
        "plugin 'zeta' (distribution feedbackql-zeta 2.0); feedbackql-alpha is the newer install "
        "(2025-10-09 08:53 UTC), so it is the one refused: uninstall one of the two distributions, or ask for "
        "a rename")


def test_an_unmarked_hook_function_gets_a_warning_with_a_suggestion() -> None:
    with pytest.warns(PluginWarning, match=r"plugin 'forgetful'.*feedbackql_question_type\(\) has no @hookimpl "
                                           r".*did you mean 'feedbackql_question_types'"):
        registry = load(plugin("forgetful", Thumbs, hook="feedbackql_question_type", mark=False))
    assert "thumbs" not in registry.questions
    with pytest.warns(PluginWarning, match=r"feedbackql_question_types\(\) has no @hookimpl and is ignored;"):
        load(plugin("forgetful", Thumbs, mark=False))


def test_a_misspelt_marked_hook_fails_with_a_suggestion() -> None:
    with pytest.raises(PluginError, match=r"plugin 'typo' .*feedbackql_feild_types\(\) is not a FeedbackQL hook "
                                          r"\(did you mean 'feedbackql_field_types'\?\)"):
        load(plugin("typo", hook="feedbackql_feild_types"))


def test_strategies_without_unify_fail_at_start_up() -> None:
    class Lazy(QuestionKind):
        name = "lazy"
        value_type = int
        strategies = ("mean",)

    with pytest.raises(PluginError, match=r"plugin 'lazy'.*declares `strategies` but does not implement `unify\(\)`"):
        load(plugin("lazy", Lazy))


def test_a_hook_that_raises_names_the_plugin() -> None:
    def feedbackql_question_types() -> list[Any]:
        raise RuntimeError("boom")

    with pytest.raises(PluginError, match=r"plugin 'raiser' .*feedbackql_question_types\(\) raised RuntimeError: boom"):
        load(plugin("raiser", function=feedbackql_question_types))


def test_agreement_as_a_plain_string_is_the_member() -> None:
    registry = load(plugin("thumbs_plugin", Thumbs))
    assert registry.questions["thumbs"].kind.agreement is Agreement.NOMINAL
    bad = type("Bad", (QuestionKind,), {"name": "bad", "value_type": int, "agreement": "cardinal"})
    with pytest.raises(PluginError, match=r"plugin 'bad_plugin'.*`agreement` that is none of"):
        load(plugin("bad_plugin", bad))


async def test_a_kind_without_settings_works_end_to_end(settings: Settings) -> None:
    registry = load(plugin("thumbs_plugin", Thumbs))
    sdl = build_schema(registry).as_str()
    assert "thumbs: ThumbsQuestionSettingsInput" in sdl
    async with serve(settings, registry) as gql:
        ws = await h.workspace(gql)
        created = await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=[{"name": "ok", "settings": {"thumbs": {}}}])
        await h.add_records(gql, created["id"], [{"fields": {"prompt": "p"}}])
        page = await gql(h.RECORDS, {"id": created["id"], "first": 1})
        record_id = page["records"]["edges"][0]["node"]["id"]
        data = await gql("""mutation($input: ResponseInput!) { submitResponse(input: $input) {
            values { value { ... on ThumbsValue { thumbs } } } } }""",
                         {"input": {"recordId": record_id, "status": "SUBMITTED",
                                    "values": [{"question": "ok", "value": {"thumbs": True}}]}})
        assert data["submitResponse"]["values"] == [{"value": {"thumbs": True}}]
        read = await gql("""query($id: ID!) { dataset(id: $id) { questions { settingsJson
            settings { __typename ... on ThumbsQuestionSettings { kind } } } } }""", {"id": created["id"]})
        assert read["dataset"]["questions"] == [
            {"settingsJson": {}, "settings": {"__typename": "ThumbsQuestionSettings", "kind": "thumbs"}}]


BROKEN = {"bad_response": """
    from feedbackql_server.kinds import QuestionKind, hookimpl

    class Response(QuestionKind):
        name = "response"
        value_type = int

    @hookimpl
    def feedbackql_question_types():
        return [Response]
    """}


@pytest.mark.parametrize("command", [["plugins"], ["serve", "--port", "1"]])
def test_the_command_line_exits_with_one_line_naming_the_plugin(tmp_path: Path, command: list[str]) -> None:
    fake_distribution(tmp_path, "feedbackql-badname", "2.0", {"badname": "bad_response"}, BROKEN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MONGODB_URI": "mongodb://127.0.0.1:1"}
    env.pop("FEEDBACKQL_BUILTIN_PLUGINS_ONLY", None)
    result = subprocess.run([sys.executable, "-m", "feedbackql_server", *command], capture_output=True,
                            text=True, timeout=60, env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "feedbackql: plugin 'badname' (distribution feedbackql-badname 2.0): question kind 'response' would add "
        "the GraphQL type 'ResponseValue', which is a core type of the schema; rename the kind"]



def test_the_command_line_shows_a_plugin_warning_on_one_line(tmp_path: Path) -> None:
    fake_distribution(tmp_path, "feedbackql-forgetful", "1.0", {"forgetful": "forgetful"},
                      {"forgetful": "def feedbackql_field_type():\n    return []\n"})
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "feedbackql_server", "plugins"], capture_output=True,
                            text=True, timeout=60, env=env, check=True)
    assert result.stderr.splitlines() == [
        "feedbackql: warning: plugin 'forgetful' (distribution feedbackql-forgetful 1.0): function "
        "feedbackql_field_type() has no @hookimpl and is ignored (did you mean 'feedbackql_field_types'?); "
        "decorate it with feedbackql_server.kinds.hookimpl"]


def test_hooks_are_called_through_pluggy_so_wrappers_apply() -> None:
    """A hook wrapper sees the call and the results (it would not if the registry called each
    implementation itself), and the kinds still come back with the plugin that gave them."""
    seen: list[int] = []

    def watch() -> Any:
        results = yield
        seen.append(len(results))
        return results

    watcher = types.ModuleType("watcher")
    hook = "feedbackql_question_types"
    setattr(watcher, hook, hookimpl(wrapper=True)(watch))
    registry = load(plugin("thumbs", Thumbs), watcher)
    assert len(seen) == 1
    assert seen[0] >= 2
    assert registry.questions["thumbs"].plugin == "thumbs"
    assert registry.questions["rating"].plugin == "rating_question"


def test_a_plugin_registered_in_process_gets_its_real_name_and_version_or_none() -> None:
    """What a kind stores under the testing plugin is what it stores in production: a migration
    keyed on the version must not meet a made-up one ("unknown") in tests only."""
    import feedbackql_slider

    registry = load(feedbackql_slider, plugin("bare_plugin", Thumbs))
    slider = registry.questions["slider"]
    assert (slider.plugin, slider.version) == ("slider", "1.4.0")
    assert str(slider.source) == "plugin 'slider' (distribution feedbackql-slider 1.4.0)"
    thumbs = registry.questions["thumbs"]
    assert (thumbs.plugin, thumbs.version) == ("bare_plugin", None)


class PlainSettings(BaseModel):
    chosen_side: str = "a"


class PlainChoice(BaseModel):
    side: str


class LaxSettings(KindModel):
    model_config = ConfigDict(extra="ignore")
    most: int = 5


class TwoNames(KindModel):
    chosen_side: str = "a"
    chosenSide: str = "b"  # noqa: N815  # the mistake under test


@pytest.mark.parametrize(("settings_model", "value_type", "message"), [
    (PlainSettings, int, r"has a settings model tests.test_plugin_loading.PlainSettings that is a plain pydantic "
                         r"BaseModel; subclass feedbackql_server.kinds.KindModel instead"),
    (None, PlainChoice, r"has a value model tests.test_plugin_loading.PlainChoice that is a plain pydantic "
                        r"BaseModel; subclass feedbackql_server.kinds.KindModel"),
    (LaxSettings, int, r"has a settings model tests.test_plugin_loading.LaxSettings that does not forbid unknown keys \(model_config extra='ignore'\): a renamed "
                       r"or misspelt key would be dropped silently; keep KindModel's extra='forbid'"),
    (TwoNames, int, r"has a settings model tests.test_plugin_loading.TwoNames that has the fields 'chosen_side' and 'chosenSide', which are both 'chosenSide' "
                    r"in GraphQL and JSON; remove or rename one of them"),
], ids=["plain-settings", "plain-value", "extra-ignore", "alias-collision"])
def test_silent_model_mistakes_are_refused_at_start_up(settings_model: Any, value_type: Any, message: str) -> None:
    attributes = {"name": "choice", "value_type": value_type}
    if settings_model is not None:
        attributes["settings_model"] = settings_model
    kind = type("Choice", (QuestionKind,), attributes)
    with pytest.raises(PluginError, match=r"^plugin 'careless' \(registered in-process\): question kind 'choice' "
                                          r"\(tests.test_plugin_loading.Choice\) " + message):
        load(plugin("careless", kind))
