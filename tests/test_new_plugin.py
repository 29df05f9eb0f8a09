"""``feedbackql new-plugin`` writes a package whose own tests pass before it is installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from feedbackql_server.cli import main
from feedbackql_server.new_plugin import ScaffoldError, names, write_plugin


def test_names_follow_the_kind_name() -> None:
    assert names("starRating") == ("feedbackql-star-rating", "feedbackql_star_rating", "StarRating")
    with pytest.raises(ScaffoldError, match="camelCase"):
        names("Star-Rating")


def test_the_generated_plugin_passes_its_own_tests(tmp_path: Path, mongodb_uri: str) -> None:
    argv = ["new-plugin", "stars", "--dir", str(tmp_path), "--kind", "question", "--kind", "field", "--kind", "task"]
    assert main(argv) == 0
    package = tmp_path / "feedbackql-stars"
    assert sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()) == [
        "README.md", "feedbackql_stars/__init__.py", "feedbackql_stars/field.py", "feedbackql_stars/field_widget.js",
        "feedbackql_stars/question.py", "feedbackql_stars/task.py", "feedbackql_stars/widget.js", "pyproject.toml",
        "tests/test_feedbackql_stars.py"]
    assert 'feedbackql_stars = "feedbackql_stars"' in (package / "pyproject.toml").read_text()
    env = {**os.environ, "MONGODB_URI": mongodb_uri}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_the_default_is_a_question_kind_with_its_widget(tmp_path: Path) -> None:
    package = write_plugin("stars", tmp_path)
    assert sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()) == [
        "README.md", "feedbackql_stars/__init__.py", "feedbackql_stars/question.py", "feedbackql_stars/widget.js",
        "pyproject.toml", "tests/test_feedbackql_stars.py"]
    init = (package / "feedbackql_stars" / "__init__.py").read_text()
    assert "from feedbackql_server.kinds import QuestionKind, hookimpl\n" in init
    assert "feedbackql_field_types" not in init
    with pytest.raises(ScaffoldError, match=r"choose parts among \['question', 'field', 'task'\]"):
        write_plugin("other", tmp_path, ["widget"])


def test_the_generated_plugins_wheel_ships_its_widget(tmp_path: Path) -> None:
    """Installed from its wheel, the plugin must find its widget: a `py-modules` layout left the
    .js out, and `serve` then refused to start."""
    pytest.importorskip("wheel", reason="setuptools < 70.1 builds wheels with the `wheel` package (dev extra)")
    package = write_plugin("stars", tmp_path / "src", ["question", "field"])
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                             "--no-index", "-q", "-w", str(tmp_path / "dist"), str(package)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("feedbackql_stars-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "feedbackql_stars/widget.js" in archive.namelist()
        assert "export default function mount" in archive.read("feedbackql_stars/widget.js").decode()
        assert "feedbackql_stars/field_widget.js" in archive.namelist()


def test_an_existing_folder_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_plugin("stars", tmp_path)
    assert main(["new-plugin", "stars", "--dir", str(tmp_path)]) == 1
    assert "exists and is not empty" in capsys.readouterr().err
