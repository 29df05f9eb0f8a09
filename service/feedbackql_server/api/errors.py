"""Every error a client sees carries ``extensions.code``; unexpected ones are masked.

Domain errors keep their message and code. Errors raised by GraphQL itself (syntax,
validation, variable coercion) get ``GRAPHQL_VALIDATION``. Anything else is logged with a
request id and reaches the client as ``INTERNAL`` with that id and no details.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from feedbackql_server.database.errors import unreachable
from feedbackql_server.errors import DomainError

log = logging.getLogger("feedbackql_server.errors")


SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def coded(error: GraphQLError, *, suggestions: bool = True) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return error
    if isinstance(original, GraphQLError):  # graphql-core wraps its own coercion errors
        error, original = original, original.original_error
    if original is None:
        # Errors of GraphQL itself; our own limit extensions name a code of their own.
        # Without suggestions (production) no message says "did you mean" (arguments, input
        # fields, types and enum values included): they would map the schema.
        extensions = {"code": "GRAPHQL_VALIDATION", **(error.extensions or {})}
        message = error.message if suggestions else SUGGESTION.sub("", error.message)
        return GraphQLError(message, error.nodes, error.source, error.positions,
                            error.path, None, extensions)
    if unreachable(original):
        return GraphQLError("the database is unavailable; try again shortly", error.nodes, error.source,
                            error.positions, error.path, None, {"code": "UNAVAILABLE"})
    request_id = uuid.uuid4().hex
    log.error("unexpected error request_id=%s path=%s", request_id, error.path,
              exc_info=original)
    return GraphQLError(
        f"internal error; quote request id {request_id} when reporting it",
        error.nodes, error.source, error.positions, error.path, None,
        {"code": "INTERNAL", "requestId": request_id},
    )


class ErrorCodes(SchemaExtension):
    def __init__(self, *, suggestions: bool = True) -> None:
        self.suggestions = suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [coded(error, suggestions=self.suggestions) for error in result.errors]
