"""Testing support for plugin authors: a GraphQL client on an isolated database, and contract
checks that run a kind through the whole service.

The pytest fixtures live in ``feedbackql_server.testing.pytest_plugin``, which the
``feedbackql-server`` distribution publishes through the ``pytest11`` entry point: installing the
server is enough. This lives in the server's package, not in the client's ``feedbackql``,
because it starts the service in-process (the client distribution installs without it).

The names below are imported on first use: pytest loads the plugin module (and so this
package) in every session of any project where the server is installed, and importing the
service costs about a second that a session using none of it should not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feedbackql_server.testing.client import FeedbackQLClient, GraphQLFailure, serve
    from feedbackql_server.testing.contract import check_field_kind, check_question_kind
    from feedbackql_server.testing.startup import startup_error

__all__ = ["FeedbackQLClient", "GraphQLFailure", "check_field_kind", "check_question_kind", "serve",
           "startup_error"]

_HOMES = {"FeedbackQLClient": "client", "GraphQLFailure": "client", "serve": "client",
          "check_field_kind": "contract", "check_question_kind": "contract", "startup_error": "startup"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
