"""docs/plugins.md documents every hook, every public part of the Kind contract and every
fixture of the testing plugin; the README links to it."""

from __future__ import annotations

import inspect

from feedbackql_server.kinds import FieldKind, QuestionKind
from feedbackql_server.kinds.hook_checks import hook_names
from feedbackql_server.testing import pytest_plugin
from tests.conftest import repo_root

GUIDE = repo_root() / "docs" / "plugins.md"


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


def test_every_hook_kind_member_and_fixture_is_documented() -> None:
    text = GUIDE.read_text()
    fixtures = {name for name in vars(pytest_plugin) if name.startswith("feedbackql_")}
    members = _public(FieldKind) | _public(QuestionKind) | {"name", "settings_model", "value_type"}
    missing = sorted(name for name in {*hook_names(), *members, *fixtures} if f"`{name}" not in text)
    assert missing == []


def test_the_readme_links_the_guide() -> None:
    assert "docs/plugins.md" in (repo_root() / "README.md").read_text()
