"""The request timeout for operations carried by a WebSocket.

``RequestTimeout`` (an ASGI middleware) sees a WebSocket as one long connection, so queries and
mutations sent over graphql-transport-ws had no deadline at all: ten aliased text searches ran
for 119 s on one socket. Each such operation now has the same deadline as an HTTP request and
ends with a ``TIMEOUT`` error message. Subscriptions are left alone: they are meant to live, and
what they do per event is read from counters.
"""

from __future__ import annotations

import functools

from graphql import GraphQLError, OperationType, get_operation_ast, parse

PARSED_DOCUMENTS = 256
"""Documents whose kind is remembered: parsing a 30-alias query for this alone took a quarter
of the service's time while an annotator sent it back to back (``bench/worst_query.py``)."""
REMEMBERED_LENGTH = 64 * 1024
"""Longer documents are parsed each time (the cache's memory stays bounded)."""


def is_subscription(query: object, operation_name: object, max_tokens: int) -> bool:
    """Whether the operation a WebSocket message names is a subscription. A document that does
    not parse (``max_tokens``: the schema's own limit) is not: it fails at once wherever it runs."""
    if not isinstance(query, str):
        return False
    if len(query) > REMEMBERED_LENGTH:
        return _names_subscription.__wrapped__(query, operation_name if isinstance(operation_name, str) else None,
                                               max_tokens)
    return _names_subscription(query, operation_name if isinstance(operation_name, str) else None, max_tokens)


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def _names_subscription(query: str, operation_name: str | None, max_tokens: int) -> bool:
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


def timeout_message(operation_id: str, seconds: float) -> dict[str, object]:
    """The ``error`` message that ends an operation cut off by its deadline."""
    return {"id": operation_id, "type": "error", "payload": [{
        "message": f"the operation took longer than {seconds:g} s; ask for less per operation",
        "extensions": {"code": "TIMEOUT"}}]}
