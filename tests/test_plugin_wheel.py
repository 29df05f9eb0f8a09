"""A plugin as its author ships it: scaffolded by ``feedbackql new-plugin`` (question, field and
task, with both widgets), built with ``pip wheel``, installed with this project into a fresh
venv, served by that venv's ``feedbackql serve``, and used in Chromium (ui/tests/plugin_wheel.mjs).
Heavy: the venv install takes about 30 s with a warm pip cache."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from feedbackql_server.new_plugin import write_plugin
from tests.conftest import OWNER_KEY, repo_root
from tests.test_browser import BROWSER_TEST_SECONDS, CHROMIUM, UI, require_tools

pytestmark = pytest.mark.heavy
INSTALL_SECONDS = 900


def run(args: list[str], timeout: float = INSTALL_SECONDS, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    assert result.returncode == 0, f"{args[:4]}: {result.stdout[-5_000:]}{result.stderr[-5_000:]}"


def fresh_venv_with(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    root = repo_root()
    run([str(venv / "bin" / "pip"), "install", "-q", "-c", str(root / "ci" / "constraints.txt"),
         str(root / "client"), str(root), str(wheel)])
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(venv: Path, data_dir: Path, mongodb_uri: str, database_name: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MONGODB_URI": mongodb_uri, "FEEDBACKQL_DATABASE_NAME": database_name,
           "FEEDBACKQL_OWNER_API_KEY": OWNER_KEY}
    log = data_dir.parent / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen([str(venv / "bin" / "feedbackql"), "serve", "--port", str(port),
                                   "--data-dir", str(data_dir)], env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"serve exited: {log.read_text()[-5_000:]}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the venv's server did not start in 60 s"
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_scaffolded_plugin_from_its_wheel_works_in_a_browser(
        tmp_path: Path, mongodb_uri: str, database_name: str) -> None:
    require_tools()
    pytest.importorskip("wheel", reason="setuptools < 70.1 builds wheels with the `wheel` package (dev extra)")
    package = write_plugin("pairs", tmp_path / "src", ["question", "field", "task"])
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(tmp_path / "dist"), str(package)])
    (wheel,) = (tmp_path / "dist").glob("feedbackql_pairs-0.1.0-*.whl")
    venv = fresh_venv_with(tmp_path, wheel)
    with served(venv, tmp_path / "data", mongodb_uri, database_name) as url:
        run(["node", "--test", "tests/plugin_wheel.mjs"], timeout=BROWSER_TEST_SECONDS, cwd=UI,
            env={**os.environ, "FEEDBACKQL_URL": url, "FEEDBACKQL_OWNER_KEY": OWNER_KEY,
                 "FEEDBACKQL_PLUGIN_KIND": "pairs", "CHROMIUM_PATH": str(CHROMIUM)})
