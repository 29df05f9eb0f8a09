"""``serve``, ``schema`` and ``plugins`` run one start-up check, so they agree on a broken
plugin, and name it with the real cause; ``--plugins-dir`` loads plugins without installing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feedbackql_server.kinds.plugin_dir import plugin_modules
from feedbackql_server.kinds.registry import PluginError

FEEDBACKQL = str(Path(sys.executable).parent / "feedbackql")
KIND = '''
from feedbackql_server.kinds import KindModel, QuestionKind, hookimpl


class {prefix}Settings(KindModel):
    """Settings."""

    {setting}: int = 1


class {prefix}Question(QuestionKind):
    name = "{name}"
    settings_model = {prefix}Settings
    value_type = int
    widget = {widget!r}


@hookimpl
def feedbackql_question_types():
    return [{prefix}Question]
'''


def write_plugin(folder: Path, module: str, *, name: str, setting: str = "most", widget: str | None = None,
                 package: bool = False) -> None:
    source = textwrap.dedent(KIND).format(prefix=name.capitalize(), name=name, setting=setting, widget=widget)
    path = folder / module / "__init__.py" if package else folder / f"{module}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACKQL_")}
    return subprocess.run([FEEDBACKQL, *args], capture_output=True, text=True, timeout=120, env=env,
                          check=False)


COMMANDS = [["plugins"], ["schema"], ["serve", "--port", "0", "--data-dir", "unused"]]


@pytest.mark.parametrize("command", COMMANDS, ids=["plugins", "schema", "serve"])
def test_a_missing_widget_fails_its_plugin_in_every_command(tmp_path: Path, command: list[str]) -> None:
    write_plugin(tmp_path, "pairwise_plugin", name="pairwise", widget="widget.js", package=True)
    result = run(*command, "--plugins-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("feedbackql: plugin 'pairwise_plugin' (registered in-process): question kind")
    assert "declares the widget 'widget.js', but the file is missing" in message
    assert str(tmp_path / "pairwise_plugin" / "widget.js") in message
    assert "package-data" in message
    assert "not a .js file" not in message


@pytest.mark.parametrize("command", COMMANDS, ids=["plugins", "schema", "serve"])
def test_a_settings_field_named_kind_is_refused_by_every_command(tmp_path: Path, command: list[str]) -> None:
    write_plugin(tmp_path, "kindly", name="kindly", setting="kind")
    result = run(*command, "--plugins-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "feedbackql: plugin 'kindly' (registered in-process): question kind 'kindly' (kindly.KindlyQuestion) "
        "has a settings field named 'kind', which the settings interface reserves for the kind's name; "
        "rename the field")


def test_a_widget_that_is_no_js_file_says_so(tmp_path: Path) -> None:
    write_plugin(tmp_path, "styled", name="styled", widget="widget.css")
    result = run("plugins", "--plugins-dir", str(tmp_path))
    assert result.returncode == 1
    assert "declares a `widget` that is not the name of a .js or .mjs file: 'widget.css'" in result.stderr


def test_the_plugins_dir_loads_working_plugins_without_installing_them(tmp_path: Path) -> None:
    write_plugin(tmp_path, "stars_dev", name="starsDev", widget="widget.js", package=True)
    (tmp_path / "stars_dev" / "widget.js").write_text("export default function mount() {}\n")
    listed = run("plugins", "--plugins-dir", str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    assert "question starsDev         stars_dev (no version)" in listed.stdout
    schema = run("schema", "--plugins-dir", str(tmp_path))
    assert "type StarsDevQuestionSettings implements QuestionSettings" in schema.stdout


def test_a_plugins_dir_module_that_fails_to_import_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken_dev.py").write_text("raise RuntimeError('half-written')\n")
    with pytest.raises(PluginError, match=r"^plugin 'broken_dev' \(in .*\) failed to import: RuntimeError: half"):
        plugin_modules(tmp_path)
