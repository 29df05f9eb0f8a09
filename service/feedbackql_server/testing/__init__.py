"""Testing support for plugin authors: a GraphQL client on an isolated database, and contract
checks that run a kind through the whole service.

The pytest fixtures live in ``feedbackql_server.testing.pytest_plugin``, which the
``feedbackql-server`` distribution publishes through the ``pytest11`` entry point: installing the
server is enough. This lives in the server's package, not in the client's ``feedbackql``,
because it starts the service in-process (the client distribution installs without it).
"""

from feedbackql_server.testing.client import FeedbackQLClient, GraphQLFailure, serve
from feedbackql_server.testing.contract import check_field_kind, check_question_kind

__all__ = ["FeedbackQLClient", "GraphQLFailure", "check_field_kind", "check_question_kind", "serve"]
