"""Refusals of documents graphql-core would otherwise fail on inside, as typed errors.

- Integers beyond 64 bits. Python converts between integers and digit strings only up to
  4,300 digits: a 5,000-digit literal made graphql-core's ``int()`` raise while executing, and
  a 4,300-digit variable made the cost message's ``str()`` raise, both ``INTERNAL``. No
  argument takes such a number (GraphQL's ``Int`` is 32-bit, stored JSON integers 64-bit), so
  a literal of more digits than any 64-bit integer is a validation error, and so is a larger
  integer anywhere in the variables.
- Several operations without ``operationName``: the GraphQL spec requires an error, and
  strawberry ran the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, IntValueNode, OperationDefinitionNode, Visitor, visit
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from feedbackql_server.safety import INT64_MAX, INT64_MIN

MAX_INT_DIGITS = 19
"""Digits of the largest 64-bit integer (9,223,372,036,854,775,807)."""
MAX_DEPTH = 64


class IntegerLiteralLimiter(SchemaExtension):
    """A literal longer than any 64-bit integer is a validation error. Runs after validation
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
            if digits > MAX_INT_DIGITS:
                found.append(GraphQLError(
                    f"an integer of {digits} digits: no argument takes more than {MAX_INT_DIGITS}", node))

    visit(document, Finder())
    return found


def oversized_integer(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` (JSON data) holds an integer beyond 64 bits."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return not INT64_MIN <= value <= INT64_MAX
    if isinstance(value, list):
        return any(oversized_integer(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(oversized_integer(item, depth + 1) for item in value.values())
    return False


class DocumentLimiter(SchemaExtension):
    """Refuses, before cost and execution, variables with oversized integers and a document of
    several operations that does not name the one to run."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None:
            # The name the client sent: ``operation_name`` falls back to the first operation's.
            sent_name = context._provided_operation_name
            problem = self._problem(context.graphql_document, sent_name, context.variables)
            if problem is not None:
                context.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(
                    problem, extensions={"code": "GRAPHQL_VALIDATION"})])
        yield

    @staticmethod
    def _problem(document: Any, operation_name: str | None, variables: dict[str, Any] | None) -> str | None:
        if document is not None and operation_name is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                return (f"the document has {len(operations)} operations: name the one to run "
                        "with `operationName`")
        if variables and oversized_integer(variables):
            return "an integer in the variables is beyond 64 bits: no argument takes one"
        return None
