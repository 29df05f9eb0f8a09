"""The labeling UI in a real browser: ui/tests/browser.mjs drives Debian's Chromium with
playwright-core against a real server on this session's database (scripts/bootstrap test
installs both; see docs/ui.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from feedbackql_server.app import create_app
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


def test_labeling_ui_in_a_browser(settings: Settings) -> None:
    missing = missing_tools()
    if missing and not os.environ.get("CI"):
        pytest.skip("browser tests need " + ", ".join(missing) + " (scripts/bootstrap test installs them)")
    assert not missing, "browser tests need " + ", ".join(missing)
    live = settings.model_copy(update={"progress_interval_seconds": 0.2})
    with live_server(create_app(live, load_registry())) as url:
        run = subprocess.run(
            ["node", "--test", "--test-concurrency=1", "tests/browser.mjs"], cwd=UI,
            env={**os.environ, "FEEDBACKQL_URL": url, "FEEDBACKQL_OWNER_KEY": OWNER_KEY,
                 "CHROMIUM_PATH": str(CHROMIUM)},
            capture_output=True, text=True, timeout=BROWSER_TEST_SECONDS, check=False,
        )
    print(run.stdout[-20_000:])
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
