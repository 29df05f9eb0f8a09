"""Refusals of documents graphql-core would otherwise fail on inside, as typed errors.

- Integers Python cannot convert. Python converts between integers and digit strings only up
  to 4,300 digits: a 5,000-digit literal made graphql-core's ``int()`` raise while executing,
  and a 4,300-digit ``Int`` variable made the cost message's ``str()`` raise, both
  ``INTERNAL``. A literal longer than Python converts is a validation error, and so is an
  integer beyond 64 bits given to an ``Int`` or ``Float`` variable (no argument takes one:
  GraphQL's ``Int`` is 32-bit). Shorter literals and integers inside JSON data go on to the
  usual checks (a record's metadata integer beyond 64 bits is that record's error).
- Several operations without ``operationName``: the GraphQL spec requires an error, and
  strawberry ran the first.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    IntValueNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    TypeNode,
    Visitor,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from feedbackql_server.safety import INT64_MAX, INT64_MIN

MAX_LITERAL_DIGITS = sys.get_int_max_str_digits() or 4300
"""The longest integer Python converts from its digits (0: no limit set; 4,300 by default)."""
MAX_DEPTH = 64


class IntegerLiteralLimiter(SchemaExtension):
    """A literal longer than Python converts is a validation error. Runs after validation
    (after ``ValidationCache``), whose rule for literal values fails inside on such a literal
    (its error would be ``INTERNAL``): the refusal replaces what validation found."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            errors = _long_literals(context.graphql_document)
            if errors:
                context.pre_execution_errors = errors
        yield


def _long_literals(document: DocumentNode) -> list[GraphQLError]:
    found: list[GraphQLError] = []

    class Finder(Visitor):
        def enter_int_value(self, node: IntValueNode, *_: Any) -> None:
            digits = len(node.value.lstrip("-"))
            if digits > MAX_LITERAL_DIGITS:
                found.append(GraphQLError(f"an integer of {digits} digits: integers are at most 64 bits", node))

    visit(document, Finder())
    return found


NUMBER_TYPES = frozenset({"Int", "Float"})


def oversized_integer(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` (a variable's value) is or holds an integer beyond 64 bits."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return not INT64_MIN <= value <= INT64_MAX
    if isinstance(value, list):
        return any(oversized_integer(item, depth + 1) for item in value)
    return False


def _type_name(node: TypeNode) -> str:
    while isinstance(node, NonNullTypeNode | ListTypeNode):
        node = node.type
    assert isinstance(node, NamedTypeNode)
    return node.name.value


def oversized_number_variables(operation: OperationDefinitionNode, variables: dict[str, Any]) -> list[str]:
    """The operation's ``Int`` and ``Float`` variables given an integer beyond 64 bits. Only
    these: an integer inside JSON data (a record's metadata) is the record's own error, reported
    with the others of its batch (``safety.check_storable``)."""
    return [f"${definition.variable.name.value}" for definition in operation.variable_definitions or ()
            if _type_name(definition.type) in NUMBER_TYPES
            and oversized_integer(variables.get(definition.variable.name.value))]


class DocumentLimiter(SchemaExtension):
    """Refuses, before cost and execution, a document of several operations that does not name
    the one to run, and number variables with integers beyond 64 bits."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            # The name the client sent: ``operation_name`` falls back to the first operation's.
            sent_name = context._provided_operation_name
            problem = self._problem(context.graphql_document, sent_name, context.variables or {})
            if problem is not None:
                context.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(
                    problem, extensions={"code": "GRAPHQL_VALIDATION"})])
        yield

    @staticmethod
    def _problem(document: DocumentNode, operation_name: str | None, variables: dict[str, Any]) -> str | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None and len(operations) > 1:
            return f"the document has {len(operations)} operations: name the one to run with `operationName`"
        chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
        oversized = oversized_number_variables(chosen[0], variables) if chosen else []
        if oversized:
            return f"{', '.join(oversized)}: an integer beyond 64 bits; no argument takes one"
        return None
