'''``feedbackql new-plugin NAME``: write a working plugin package to start from.

The package has one question kind named ``NAME`` (a score on a scale the dataset chooses)
with its browser widget, its entry point, tests that use ``feedbackql_server.testing`` and a
README. It is a package folder whose ``.js`` files are package data, so ``pip wheel .``
ships the widget (a ``py-modules`` layout would leave it out). Its tests run before it is
installed (pytest registers it in-process through the ``feedbackql_plugins`` ini option) and
after.
'''

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from feedbackql_server import __version__
from feedbackql_server.kinds.registry import KIND_NAME


class ScaffoldError(ValueError):
    """The plugin cannot be written as asked."""


def names(kind: str) -> tuple[str, str, str]:
    """(distribution, module, class prefix) for a kind name: ``starRating`` ->
    (``feedbackql-star-rating``, ``feedbackql_star_rating``, ``StarRating``)."""
    if not KIND_NAME.match(kind):
        raise ScaffoldError(f"{kind!r} is not a kind name: a camelCase identifier such as 'stars' or 'starRating'")
    words = re.sub(r"([A-Z])", r" \1", kind).lower().split()
    return "feedbackql-" + "-".join(words), "feedbackql_" + "_".join(words), kind[0].upper() + kind[1:]


def write_plugin(kind: str, parent: Path) -> Path:
    """Write the package into ``parent/<distribution>``; returns that folder."""
    dist, module, prefix = names(kind)
    target = parent / dist
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty")
    values = {"kind": kind, "dist": dist, "module": module, "prefix": prefix, "server": __version__}
    files = {
        "pyproject.toml": PYPROJECT, f"{module}/__init__.py": MODULE, f"{module}/widget.js": WIDGET,
        f"tests/test_{module}.py": TESTS, "README.md": README,
    }
    for name, template in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(template).lstrip().format(**values))
    return target


PYPROJECT = '''
    [build-system]
    requires = ["setuptools>=69"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "{dist}"
    version = "0.1.0"
    description = "A FeedbackQL plugin: the {kind} question kind."
    requires-python = ">=3.11"
    dependencies = ["feedbackql-server>={server}"]

    [project.optional-dependencies]
    test = ["feedbackql-server[testing]>={server}"]

    # FeedbackQL finds the plugin through this entry-point group.
    [project.entry-points.feedbackql]
    {module} = "{module}"

    [tool.setuptools]
    packages = ["{module}"]

    # The browser widget ships inside the package, so the wheel has it.
    [tool.setuptools.package-data]
    {module} = ["*.js"]

    [tool.pytest.ini_options]
    # Registered in-process by feedbackql_server.testing, so the tests run before it is installed.
    pythonpath = ["."]
    feedbackql_plugins = ["{module}"]
'''

MODULE = '''
    """The `{kind}` question kind: a score from 1 to the dataset's `most`."""

    from __future__ import annotations

    from collections import Counter
    from collections.abc import Hashable, Iterable, Sequence
    from typing import Annotated, Any

    from pydantic import Field

    from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, Unified, hookimpl


    class {prefix}QuestionSettings(KindModel):
        """The top of the scale (the GraphQL input is `{{ most }}`)."""

        most: Annotated[int, Field(ge=2, le=10)] = 5


    class {prefix}Question(QuestionKind):
        name = "{kind}"
        description = "A score from 1 to `most`."
        settings_model = {prefix}QuestionSettings
        value_type = Annotated[int, Field(ge=1)]
        agreement = Agreement.ORDINAL
        strategies = ("majority", "max")
        widget = "widget.js"  # next to this file; served at questionTypes.widgetUrl

        def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
            if value > settings.most:
                raise ValueError(f"{{value}} is above the top of the scale, {{settings.most}}")
            return value

        def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
            """majority: the most frequent score, ties to the lower one; max: the highest."""
            if not answers:
                return Unified(None)
            disagreement = len(set(answers)) > 1
            if strategy == "max":
                return Unified(max(answers), disagreement=disagreement)
            counts = Counter(answers)
            best = max(counts.values())
            tied = sorted(score for score, count in counts.items() if count == best)
            return Unified(tied[0], tie=len(tied) > 1, disagreement=disagreement)

        def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
            return [("", answer)]


    @hookimpl
    def feedbackql_question_types() -> list[type[QuestionKind]]:
        return [{prefix}Question]
'''

TESTS = '''
    """The {kind} kind through the service (``feedbackql_client`` comes from the pytest plugin
    of feedbackql-server: the app with this plugin, on a database of its own)."""

    from __future__ import annotations

    from feedbackql_server.testing import FeedbackQLClient, check_question_kind

    from {module} import {prefix}Question


    def test_{module}_keeps_the_contract(feedbackql_client: FeedbackQLClient) -> None:
        check_question_kind(feedbackql_client, "{kind}", {{"most": 3}}, [1, 3, 3],
                            invalid_answers=[0, 4], invalid_settings=[{{"most": 1}}])


    def test_majority_ties_go_to_the_lower_score() -> None:
        unified = {prefix}Question().unify(None, [1, 3], "majority")
        assert (unified.value, unified.tie) == (1, True)
'''

WIDGET = '''
    // The {kind} kind's browser widget: one button per score. FeedbackQL's README ("Plugin
    // widgets") gives the contract; plain DOM, no imports, no inline script.

    export default function mount(host, props) {{
      const group = document.createElement("div");
      group.setAttribute("role", "radiogroup");
      group.setAttribute("aria-labelledby", props.labelId);
      host.append(group);
      let current = props;

      function render() {{
        group.replaceChildren();
        const most = current.question.settings.most ?? 5;
        for (let score = 1; score <= most; score += 1) {{
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = String(score);
          button.setAttribute("role", "radio");
          button.setAttribute("aria-checked", String(current.value === score));
          button.disabled = Boolean(current.readOnly);
          button.addEventListener("click", () => current.onChange(current.value === score ? null : score));
          group.append(button);
        }}
      }}

      render();
      return {{
        update(next) {{
          current = next;
          render();
        }},
        destroy() {{
          group.remove();
        }},
      }};
    }}
'''

README = '''
    # {dist}

    A FeedbackQL plugin: the `{kind}` question kind, a score from 1 to `most` (settings
    `{{ most }}`, default 5; answers `{{ {kind}: 3 }}`), with a browser widget
    (`{module}/widget.js`, shipped in the wheel as package data).

    ```bash
    pip install -e '.[test]'   # next to feedbackql-server
    pytest                     # MONGODB_URI if set, else an embedded FerretDB
    feedbackql plugins         # lists the {kind} kind once installed
    ```

    Publish it like any Python package (`python -m build`, then upload): installing it next to
    feedbackql-server adds the kind to the schema. The contract is in FeedbackQL's
    `docs/plugins.md`.
'''
