"""One list of error codes: the server's ``errors.CODES``. The SDK (which installs without the
server) and the web UI keep copies; these tests fail when a copy or the service's own code
drifts from it."""

from __future__ import annotations

import re
from pathlib import Path

from feedbackql.errors import ERROR_CLASSES
from feedbackql_server.errors import CODES
from tests.conftest import repo_root

SERVICE = repo_root() / "service" / "feedbackql_server"
WRITTEN = re.compile(r"""(?:["']code["']\s*:\s*|\bcode\s*=\s*|error_response\(\s*\d+\s*,\s*|RecordError\(\s*\w+\s*,\s*)"""
                     r"""["']([A-Z][A-Z_]+)["']""")
"""A code written in the service: ``"code": "X"``, ``code = "X"``, ``error_response(503, "X"``,
``RecordError(i, "X"``."""


def codes_written(folder: Path) -> set[str]:
    return {code for path in folder.rglob("*.py") for code in WRITTEN.findall(path.read_text())}


def test_the_sdk_has_a_class_for_every_code_and_no_other() -> None:
    assert set(ERROR_CLASSES) == set(CODES)


def test_the_web_ui_lists_every_code_and_no_other() -> None:
    source = (repo_root() / "ui" / "src" / "api.ts").read_text()
    listed = re.search(r"export const ERROR_CODES = \[(.*?)\] as const", source, re.S)
    assert listed is not None
    assert re.findall(r'"([A-Z_]+)"', listed.group(1)) == list(CODES)


def test_every_code_the_service_writes_is_listed() -> None:
    written = codes_written(SERVICE)
    assert {"TIMEOUT", "UNAVAILABLE", "PAYLOAD_TOO_LARGE", "VALIDATION"} <= written, "the scan finds codes"
    assert written - set(CODES) == set()


def test_every_code_the_web_ui_tests_for_is_listed() -> None:
    tested = {code for path in (repo_root() / "ui" / "src").rglob("*.ts*")
              for code in re.findall(r'\.code === "([A-Z_]+)"', path.read_text())}
    assert tested
    assert tested - set(CODES) == set()
