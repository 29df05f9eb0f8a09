"""The README's SDK examples run as written against a real service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY, repo_root
from tests.live import live_server


def sdk_examples() -> list[str]:
    readme = (repo_root() / "README.md").read_text()
    section = readme.split("## Python SDK", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def service_url(settings: Settings, builtin_registry: KindRegistry, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with live_server(create_app(settings, builtin_registry)) as url:
        monkeypatch.setenv("FEEDBACKQL_URL", url)
        monkeypatch.setenv("FEEDBACKQL_API_KEY", OWNER_KEY)
        yield url


def test_the_readme_has_the_three_workflows_and_find_similar() -> None:
    assert len(sdk_examples()) == 4


@pytest.mark.parametrize("index", range(4), ids=["sft", "comparison", "prompt-rating", "find-similar"])
def test_readme_example_runs(service_url: str, index: int) -> None:
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(sdk_examples()[index], f"README.md example {index + 1}", "exec"), namespace)
    client = namespace.get("client")
    if client is not None:
        client.close()  # type: ignore[attr-defined]


def _documents() -> list[Path]:
    root = repo_root()
    return [root / "README.md", root / "CONTRIBUTING.md", root / "SECURITY.md", *sorted((root / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", _documents(), ids=lambda path: path.name)
def test_every_local_link_leads_somewhere(document: Path) -> None:
    """The manual is split over README.md and docs/: a moved section must not leave a dead link."""
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (document.parent / target).exists(), f"{document.name} links to {target}, which does not exist"
