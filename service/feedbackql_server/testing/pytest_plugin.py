"""pytest fixtures for testing FeedbackQL plugins, published through the ``pytest11`` entry point.

Nothing here runs unless a test asks for one of these ``feedbackql_``-prefixed fixtures:

- ``feedbackql_plugins``: the plugin modules under test (default: the modules named by the
  ``feedbackql_plugins`` ini option; none named means every installed plugin, as
  ``feedbackql serve`` would load them). Override it in a ``conftest.py`` to choose in code.
- ``feedbackql_registry``: the kinds the app is built with: the built-ins and the plugins under
  test (or every installed plugin).
- ``feedbackql_database_uri`` (session): ``MONGODB_URI`` if set, else an embedded FerretDB
  started for the session in a temporary folder.
- ``feedbackql_client``: a ``FeedbackQLClient`` (synchronous) of the app on a database of its
  own, authenticated as the owner; the database is dropped afterwards.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from feedbackql_server.kinds.registry import KindRegistry
    from feedbackql_server.testing.client import FeedbackQLClient

# The server is imported inside the fixtures: this module is loaded (through ``pytest11``) by
# every pytest session of any project where the server is installed, and importing the server
# costs about a second.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("feedbackql_plugins", type="args", default=[],
                  help="modules of the FeedbackQL plugins under test (registered in-process)")


@pytest.fixture
def feedbackql_plugins(request: pytest.FixtureRequest) -> list[ModuleType]:
    names: list[str] = request.config.getini("feedbackql_plugins")
    return [importlib.import_module(name) for name in names]


@pytest.fixture
def feedbackql_registry(feedbackql_plugins: list[ModuleType]) -> KindRegistry:
    from feedbackql_server.kinds.registry import load_registry

    if feedbackql_plugins:
        return load_registry(builtin_only=True, extra_plugins=feedbackql_plugins)
    return load_registry()


@pytest.fixture(scope="session")
def feedbackql_database_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    from feedbackql_server.database.local import local_database

    with local_database(tmp_path_factory.mktemp("feedbackql-db")) as started:
        yield started


@pytest.fixture
def feedbackql_client(feedbackql_registry: KindRegistry, feedbackql_database_uri: str) -> Iterator[FeedbackQLClient]:
    from feedbackql_server.testing.client import serve

    with serve(feedbackql_registry, feedbackql_database_uri) as client:
        yield client
