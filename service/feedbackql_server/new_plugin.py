'''``feedbackql new-plugin NAME``: write a working plugin package to start from.

The package has the parts asked for (``--kind``, repeatable, default ``question``): a question
kind named ``NAME`` (a score on a scale the dataset chooses) with its browser widget, a field
kind ``NAME`` (a code snippet with its language) with its widget, a training task; its entry
point, tests that use ``feedbackql_server.testing`` and a README. It is a package folder whose
``.js`` files are package data, so ``pip wheel .`` ships the widgets (a ``py-modules`` layout
would leave them out). Its tests run before it is installed (pytest registers it in-process
through the ``feedbackql_plugins`` ini option) and after.
'''

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

from feedbackql_server import __version__
from feedbackql_server.kinds.registry import KIND_NAME
from feedbackql_server.new_plugin_templates import (
    HOOKS,
    INIT_HEAD,
    PART_FILES,
    PART_TESTS,
    PYPROJECT,
    README,
    TESTS_HEAD,
)


class ScaffoldError(ValueError):
    """The plugin cannot be written as asked."""


def names(kind: str) -> tuple[str, str, str]:
    """(distribution, module, class prefix) for a kind name: ``starRating`` ->
    (``feedbackql-star-rating``, ``feedbackql_star_rating``, ``StarRating``)."""
    if not KIND_NAME.match(kind):
        raise ScaffoldError(f"{kind!r} is not a kind name: a camelCase identifier such as 'stars' or 'starRating'")
    words = re.sub(r"([A-Z])", r" \1", kind).lower().split()
    return "feedbackql-" + "-".join(words), "feedbackql_" + "_".join(words), kind[0].upper() + kind[1:]


PARTS = ("question", "field", "task")


def write_plugin(kind: str, parent: Path, parts: Sequence[str] = ("question",)) -> Path:
    """Write the package into ``parent/<distribution>``; returns that folder."""
    dist, module, prefix = names(kind)
    chosen = [part for part in PARTS if part in parts]
    if not chosen or len(chosen) != len(set(parts)):
        raise ScaffoldError(f"choose parts among {list(PARTS)}, got {list(parts)}")
    target = parent / dist
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty")
    values = {"kind": kind, "dist": dist, "module": module, "prefix": prefix, "server": __version__,
              "task": "_".join(dist.split("-")[1:]) + "_rows", "parts": ", ".join(chosen)}
    files = {"pyproject.toml": PYPROJECT, "README.md": README, f"{module}/__init__.py": _init(chosen),
             f"tests/test_{module}.py": _tests(chosen)}
    for part in chosen:
        files.update({name.format(module=module): template for name, template in PART_FILES[part].items()})
    for name, template in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(template).lstrip().format(**values))
    return target


def _init(parts: Sequence[str]) -> str:
    """The package's ``__init__``: one hook per part, each returning the part's class."""
    imports = {"question": "QuestionKind", "field": "FieldKind"}
    kinds = ", ".join([*sorted(imports[part] for part in parts if part in imports), "hookimpl"])
    head = textwrap.dedent(INIT_HEAD).replace("KINDS", kinds)
    if "task" in parts:
        head += "from feedbackql_server.kinds.tasks import TrainingTask\n"
    return head + _blocks(HOOKS, parts)


def _tests(parts: Sequence[str]) -> str:
    checks = ", ".join(["FeedbackQLClient", *sorted(f"check_{part}_kind" for part in parts if part != "task")])
    return textwrap.dedent(TESTS_HEAD).replace("CHECKS", checks) + _blocks(PART_TESTS, parts)


def _blocks(templates: dict[str, str], parts: Sequence[str]) -> str:
    """Top-level blocks, two blank lines apart."""
    return "".join("\n\n" + textwrap.dedent(templates[part]).strip("\n") + "\n" for part in parts)
