"""The CLI's schema and plugins commands, and the hook specifications' own contract."""

from __future__ import annotations

import inspect
import subprocess
import sys

from feedbackql_server.kinds import hookspecs
from feedbackql_server.kinds.registry import get_plugin_manager
from tests.conftest import repo_root


def run_cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "feedbackql_server", *args], capture_output=True,
                            text=True, check=True, timeout=60)
    return result.stdout


def test_schema_command_prints_the_committed_schema() -> None:
    assert run_cli("schema", "--builtin-only") == (repo_root() / "schema.graphql").read_text()


def test_plugins_command_lists_kinds_with_plugin_and_version() -> None:
    lines = run_cli("plugins").splitlines()
    assert "question ranking          ranking_question 0.1.0" in lines
    assert any(line.startswith("question slider") and line.endswith("slider 1.4.0") for line in lines)
    assert any(line.startswith("field    chat") for line in lines)
    assert any(line.startswith("task     token_classification span_question") for line in lines)


def test_every_hook_is_documented_and_implemented_by_a_builtin() -> None:
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("feedbackql_")]
    assert specs == ["feedbackql_field_types", "feedbackql_question_types", "feedbackql_training_tasks",
                     "feedbackql_vector_indexes"]
    pm, _ = get_plugin_manager(builtin_only=True)
    for name in specs:
        assert inspect.getdoc(getattr(hookspecs, name)), f"{name} has no docstring"
        assert getattr(pm.hook, name).get_hookimpls(), f"no built-in implements {name}"
