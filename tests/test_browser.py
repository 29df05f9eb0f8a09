"""The labeling UI in a real browser: ui/tests/browser.mjs drives Debian's Chromium with
playwright-core against a real server on this session's database (scripts/bootstrap test
installs both; see docs/ui.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds import QuestionKind, hookimpl
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY, repo_root
from tests.live import live_server

UI = repo_root() / "ui"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BROWSER_TEST_SECONDS = 600


def missing_tools() -> list[str]:
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node")
    if not (UI / "node_modules" / "playwright-core").is_dir():
        missing.append("ui/node_modules (cd ui && npm ci)")
    return missing


def require_tools() -> None:
    missing = missing_tools()
    if missing and not os.environ.get("CI"):
        pytest.skip("browser tests need " + ", ".join(missing) + " (scripts/bootstrap test installs them)")
    assert not missing, "browser tests need " + ", ".join(missing)


def run_browser_tests(url: str, *args: str, env: dict[str, str] | None = None) -> None:
    run = subprocess.run(
        ["node", "--test", "--test-concurrency=1", *args, "tests/browser.mjs"], cwd=UI,
        env={**os.environ, "FEEDBACKQL_URL": url, "FEEDBACKQL_OWNER_KEY": OWNER_KEY,
             "CHROMIUM_PATH": str(CHROMIUM), **(env or {})},
        capture_output=True, text=True, timeout=BROWSER_TEST_SECONDS, check=False,
    )
    print(run.stdout[-20_000:])
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]


def test_labeling_ui_in_a_browser(settings: Settings) -> None:
    require_tools()
    live = settings.model_copy(update={"progress_interval_seconds": 0.2})
    with live_server(create_app(live, load_registry())) as url:
        run_browser_tests(url)


class Stars(QuestionKind):
    name = "stars"
    value_type = int


def stars_plugin() -> types.ModuleType:
    plugin = types.ModuleType("stars_plugin")
    plugin.__version__ = "1.0"  # type: ignore[attr-defined]
    plugin.feedbackql_question_types = hookimpl(lambda: [Stars])  # type: ignore[attr-defined]
    return plugin


def owner_call(url: str, query: str, variables: dict[str, Any]) -> Any:
    body = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables},
                      headers={"Authorization": f"Bearer {OWNER_KEY}"}, timeout=30).json()
    assert "errors" not in body, body
    return body["data"]


def dataset_with_stars(url: str) -> str:
    ws = owner_call(url, 'mutation { createWorkspace(name: "gone") { id } }', {})["createWorkspace"]["id"]
    created = owner_call(url, "mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }", {"i": {
        "workspaceId": ws, "name": "stars-gone", "fields": [{"name": "prompt", "settings": {"text": {}}}],
        "questions": [{"name": "quality", "settings": {"rating": {"values": [1, 2, 3]}}},
                      {"name": "stars", "required": False, "settings": {"stars": {}}}]}})["createDataset"]["id"]
    owner_call(url, "mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": created})
    records = [{"fields": {"prompt": f"Rate me {i}"}, "suggestions": [{"question": "stars", "value": {"stars": 4},
                                                                     "agent": "stars-model"}]} for i in range(2)]
    added = owner_call(url, "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) "
                            "{ created } }", {"id": created, "r": records})
    assert added["addRecords"]["created"] == 2
    return str(created)


def test_an_uninstalled_kind_is_read_only_in_a_browser(settings: Settings) -> None:
    """Issue 23, reproduction 2: with the `stars` plugin gone, the UI sent the read-only question's
    suggestion and every submit failed (400, unknown ValueInput member)."""
    require_tools()
    with live_server(create_app(settings, load_registry(extra_plugins=[stars_plugin()]))) as url:
        dataset_id = dataset_with_stars(url)
    with live_server(create_app(settings, load_registry())) as url:
        run_browser_tests(url, "--test-name-pattern", "unavailable kind|Content-Security-Policy",
                          env={"FEEDBACKQL_UNAVAILABLE_DATASET": dataset_id})
