"""Plugins written for 0.1 (``feedbackql.kinds``, ``feedbackql.plugins``) load again, with a
warning naming the new import; the SDK package that now owns the name stays server-free."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from feedbackql_plugins import rating_question
from feedbackql_server.kinds.hook_checks import PluginWarning
from feedbackql_server.kinds.registry import load_registry
from tests.distributions import fake_distribution

OLD_PLUGIN = """
    from feedbackql.kinds import Agreement, QuestionKind, hookimpl
    from feedbackql.kinds.base import KindModel
    from feedbackql.plugins.rating_question import RatingQuestion


    class VintageSettings(KindModel):
        most: int = 5


    class VintageQuestion(QuestionKind):
        name = "vintage"
        settings_model = VintageSettings
        value_type = int
        agreement = Agreement.ORDINAL


    class VintageRating(RatingQuestion):
        name = "vintageRating"
        settings_model = type("VintageRatingSettings", (RatingQuestion.settings_model,), {})


    @hookimpl
    def feedbackql_question_types():
        return [VintageQuestion, VintageRating]
    """


def test_a_plugin_written_for_0_1_loads_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distribution(tmp_path, "feedbackql-vintage", "0.1.0", {"vintage": "vintage_plugin"},
                      {"vintage_plugin": OLD_PLUGIN})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning) as warned:
        registry = load_registry()
    messages = [str(w.message) for w in warned]
    assert ("plugin 'vintage' (distribution feedbackql-vintage 0.1.0): feedbackql.kinds moved to "
            "feedbackql_server.kinds in FeedbackQL 0.2; import it from there (the old name keeps working until 0.4)"
            ) in messages
    assert any("feedbackql.plugins.rating_question moved to feedbackql_plugins.rating_question" in m
               for m in messages)
    assert registry.questions["vintage"].plugin == "vintage"
    assert isinstance(registry.questions["vintageRating"].kind, rating_question.RatingQuestion)


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_old_and_new_names_are_the_same_objects_and_the_sdk_imports_no_server() -> None:
    result = python(
        "import sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "import feedbackql, feedbackql.kinds, feedbackql.plugins\n"
        "assert 'feedbackql_server' not in sys.modules, 'importing the SDK imported the server'\n"
        "warnings.simplefilter('ignore')\n"
        "from feedbackql.kinds import QuestionKind\n"
        "from feedbackql.kinds.hookspecs import hookimpl\n"
        "from feedbackql.plugins import rating_question\n"
        "import feedbackql_server.kinds as new, feedbackql_plugins.rating_question as builtin\n"
        "assert QuestionKind is new.QuestionKind and hookimpl is new.hookimpl and rating_question is builtin\n"
        "assert builtin.__spec__.name == 'feedbackql_plugins.rating_question'\n")
    assert result.returncode == 0, result.stderr


def test_without_the_server_the_old_path_says_what_to_install() -> None:
    result = python(
        "import sys\n"
        "sys.modules['feedbackql_server'] = None  # as if feedbackql-server were not installed\n"
        "from feedbackql.kinds import QuestionKind\n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: feedbackql.kinds is part of the FeedbackQL server's plugin API (feedbackql_server.kinds), "
        "which is not installed: pip install feedbackql-server")
