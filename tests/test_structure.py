"""The package boundaries that keep the house livable, checked from the source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_ONLY = ("feedbackql_server", "feedbackql_plugins", "strawberry", "starlette", "uvicorn", "pymongo",
               "pluggy", "pydantic")


def imported_modules(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


def test_the_client_imports_no_server_module() -> None:
    offending = [(path.name, module) for path, module in imported_modules(ROOT / "client" / "feedbackql")
                 if module.split(".")[0] in SERVER_ONLY]
    assert offending == []


def test_the_checker_sees_imports() -> None:
    """Guards the boundary test above from passing on an empty walk."""
    modules = {module for _, module in imported_modules(ROOT / "client" / "feedbackql")}
    assert "httpx" in modules
