"""Where `feedbackql serve` finds FerretDB (issue 22, item 7): a per-user cache folder reached
from any working folder, ``FEEDBACKQL_BIN_DIR`` over it, and a ``./.bin`` of an earlier
version copied into the cache instead of being built again."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedbackql_server.database.ferretdb import build_ferretdb, default_bin_dir, find_ferretdb

BINARY = b"#!/bin/sh\necho not really FerretDB\n"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FEEDBACKQL_BIN_DIR", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # neither ferretdb nor go
    return tmp_path / "cache" / "feedbackql" / "bin"


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(BINARY)
    path.chmod(0o755)
    return path


def test_a_binary_of_an_earlier_version_in_dot_bin_is_copied_to_the_cache_once(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    _executable(project / ".bin" / "ferretdb")
    elsewhere.mkdir()
    assert default_bin_dir() == cache
    monkeypatch.chdir(elsewhere)
    assert find_ferretdb() is None
    monkeypatch.chdir(project)
    assert build_ferretdb() == cache / "ferretdb"
    assert (cache / "ferretdb").read_bytes() == BINARY
    assert list(cache.iterdir()) == [cache / "ferretdb"]  # no partial file left behind
    monkeypatch.chdir(elsewhere)  # `feedbackql serve` from any folder now finds it
    assert find_ferretdb() == cache / "ferretdb"
    assert build_ferretdb() == cache / "ferretdb"


def test_feedbackql_bin_dir_wins_and_dot_bin_is_not_read_then(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _executable(cache / "ferretdb")
    _executable(tmp_path / ".bin" / "ferretdb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBACKQL_BIN_DIR", str(tmp_path / "chosen"))
    assert find_ferretdb() is None
    chosen = _executable(tmp_path / "chosen" / "ferretdb")
    assert find_ferretdb() == chosen
    assert build_ferretdb() == chosen
