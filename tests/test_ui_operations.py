"""The web UI's operations are typed by graphql-codegen (``ui/codegen.yml``): each is a
``/* GraphQL */`` template literal that codegen reads, typed with the result and variable types it
generates, so an operation asking for a field the schema lacks fails ``npm run build`` (codegen),
and code reading a field its operation did not ask for fails it too (tsc). These tests fail when an
operation string escapes that: not marked, outside codegen's documents, typed by hand, or not
valid against the committed schema as the service would run it (fragments pasted in)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from graphql import build_schema, parse, validate

from tests.conftest import repo_root

UI = repo_root() / "ui"
SOURCES = sorted(path for pattern in ("*.ts", "*.tsx") for path in (UI / "src").rglob(pattern)
                 if "generated" not in path.relative_to(UI / "src").parts)
MARK = "/* GraphQL */ `"
OPERATION_TEXT = re.compile(r"""[`"'](?=\s*(?:(query|mutation|subscription)\s+(\w+)\s*[({]|fragment\s+(\w+)\s+on\b))""")
"""A string that starts an operation or a fragment, and its kind and name."""
MARKED = re.compile(r"(const (\w+) = )?(?:operation<([\w.]+), ([\w.]+)>\(\s*)?/\* GraphQL \*/ `([^`]*)`")
BUILT_AT_RUN_TIME = {"Unified"}
"""Operations whose text is built when they are sent (``answers.tsx``: one alias per question);
what they ask of each item is a marked fragment."""
KINDS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def _documents_globs() -> list[str]:
    config = (UI / "codegen.yml").read_text()
    block = re.search(r"^documents:\n((?:\s+- .*\n)+)", config, re.M)
    assert block, "codegen.yml has no documents list"
    return [line.split("- ", 1)[1].strip().strip('"') for line in block.group(1).splitlines()]


def _matches(path: str, glob: str) -> bool:
    """A codegen (micromatch) glob: ``**/`` is any number of folders, ``*`` a part of one name."""
    pattern = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    return re.fullmatch(pattern, path) is not None


def _marked() -> dict[Path, list[re.Match[str]]]:
    return {path: list(MARKED.finditer(path.read_text())) for path in SOURCES}


def test_every_operation_string_is_marked_for_codegen() -> None:
    unmarked = []
    for path in SOURCES:
        text = path.read_text()
        for found in OPERATION_TEXT.finditer(text):
            name = found.group(2) or found.group(3)
            if not text[:found.start() + 1].endswith(MARK) and name not in BUILT_AT_RUN_TIME:
                unmarked.append(f"{path.relative_to(UI)}: {name}")
    assert unmarked == [], "operation strings codegen does not read: mark them /* GraphQL */"


def test_codegen_reads_every_file_with_an_operation() -> None:
    globs = _documents_globs()
    included = [g for g in globs if not g.startswith("!")]
    excluded = [g[1:] for g in globs if g.startswith("!")]
    for path, marked in _marked().items():
        relative = str(path.relative_to(UI))
        if marked:
            assert any(_matches(relative, g) for g in included), f"{relative} is outside codegen's documents"
            assert not any(_matches(relative, g) for g in excluded), f"{relative} is excluded from codegen's documents"


def test_every_operation_is_typed_with_what_codegen_generates_for_it() -> None:
    wrong = []
    for path, marked in _marked().items():
        for found in marked:
            header = re.match(r"\s*(query|mutation|subscription)\s+(\w+)", found.group(5))
            if header is None:
                continue  # a fragment: its type is named by the views
            suffix = f"{header.group(2)}{KINDS[header.group(1)]}"
            if found.group(3, 4) != (f"G.{suffix}", f"G.{suffix}Variables"):
                wrong.append(f"{path.relative_to(UI)}: {header.group(2)} typed {found.group(3, 4)}")
    assert wrong == []


def test_no_call_types_its_result_by_hand() -> None:
    """``api.request<{ me: Me }>(ME)`` typed the result by hand; the operation carries its type."""
    by_hand = [f"{path.relative_to(UI)}: {line.strip()}" for path in SOURCES
               for line in path.read_text().splitlines() if re.search(r"\bapi\.(request|subscribe)<", line)]
    assert by_hand == []


def _pasting(constants: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda interpolation: constants[interpolation.group(1)]


def test_every_operation_is_valid_against_the_schema_as_sent() -> None:
    """What the service receives: the literal with its ``${FRAGMENT}`` constants pasted in (codegen
    reads fragments from anywhere; the service sees only what the string holds, and refuses an
    unused or missing fragment)."""
    schema = build_schema((repo_root() / "schema.graphql").read_text())
    problems, seen = [], 0
    for path, marked in _marked().items():
        constants = {found.group(2): found.group(5) for found in marked if found.group(2)}
        for found in marked:
            text = found.group(5)
            if not re.match(r"\s*(query|mutation|subscription)\b", text):
                continue
            sent = re.sub(r"\$\{(\w+)\}", _pasting(constants), text)
            seen += 1
            problems += [f"{path.relative_to(UI)}: {error.message}" for error in validate(schema, parse(sent))]
    assert seen >= 30
    assert problems == []
