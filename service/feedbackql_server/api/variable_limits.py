"""Refuse huge lists in variables before graphql-core coerces them.

Coercing variables runs before any resolver, so a batch limit checked by a resolver comes too
late: 200,000 ``RecordInput`` objects took 9 s of coercion (holding the event loop) before
``addRecords`` could say "at most 1,000". The largest list any operation accepts is known, so
longer lists are refused here, before execution starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from feedbackql_server.domain.vectors import MAX_DIMENSION

MAX_DEPTH = 64
CONTAINERS = {list, dict}
"""What parsed JSON can hold a list in."""
NUMBERS = {int, float}


def longest_list(value: Any, depth: int = 0) -> int:
    """The length of the longest list anywhere in ``value`` (JSON data). A list of numbers
    alone up to ``MAX_DIMENSION`` long is one vector (a 1,536-dimension embedding is common)
    and counts as one item: the batch limits are about records, not a vector's values."""
    if depth > MAX_DEPTH:
        return 0
    if isinstance(value, list):
        types = set(map(type, value))  # numbers (a vector's 384): no Python loop over them
        if not CONTAINERS & types:
            return 1 if types <= NUMBERS and len(value) <= MAX_DIMENSION else len(value)
        return max([len(value), *(longest_list(item, depth + 1) for item in value[:100_001])])
    if isinstance(value, dict):
        return max((longest_list(item, depth + 1) for item in value.values()), default=0)
    return 0


class VariableListLimiter(SchemaExtension):
    def __init__(self, *, max_items: int) -> None:
        self.max_items = max_items

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.variables:
            longest = longest_list(context.variables)
            if longest > self.max_items:
                context.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(
                    f"a list in the variables has {longest} items; at most {self.max_items} are accepted "
                    f"in one request (a list of numbers alone, a vector, up to {MAX_DIMENSION}): send smaller "
                    "batches",
                    extensions={"code": "PAYLOAD_TOO_LARGE", "limit": self.max_items},
                )])
        yield
