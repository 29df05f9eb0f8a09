"""A static cost limit: refuse an operation that would resolve too many fields.

Depth, alias and token limits bound the document; they do not stop ``records(first: 1000)``
with nested responses from being repeated under thirty aliases. The cost of a field is 1
plus its children's cost times the number of items it can return: ``first`` when the field
takes it (the variable's value, or the argument's default), ``default_list_size`` for other
lists, 1 otherwise. ``edges`` is counted once: its size is the parent's ``first``.
Fragments are counted as if all of them applied, which over-estimates unions a little.

``first`` is read the way the executor will read it: variables are coerced by graphql-core's
own ``get_variable_values`` (defaults included) and arguments by ``coerce_input_literal``. Reading the
raw JSON instead let ``{"n": 1000.0}`` count as 1 while the executor accepted it as 1000.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    coerce_input_literal,
    get_variable_values,
)
from graphql.execution.values import VariableValues
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.extensions import SchemaExtension

CONNECTION_ITEMS = "edges"


class CostCounter:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: VariableValues | None, default_list_size: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_list_size = default_list_size

    def selection_cost(self, parent: GraphQLNamedType | None, selections: SelectionSetNode | None,
                       seen: frozenset[str] = frozenset()) -> int:
        if selections is None:
            return 0
        total = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                total += self.field_cost(parent, node, seen)
            elif isinstance(node, InlineFragmentNode):
                condition = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selection_cost(condition, node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    condition = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selection_cost(condition, fragment.selection_set,
                                                 seen | {node.name.value})
        return total

    def field_cost(self, parent: GraphQLNamedType | None, node: FieldNode, seen: frozenset[str]) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        definition = _field_definition(parent, name)
        if definition is None:
            return 1
        field_type, arguments = definition
        named, is_list = _unwrap(field_type)
        children = self.selection_cost(named, node.selection_set, seen)
        return 1 + self.multiplier(node, arguments, is_list) * children

    def multiplier(self, node: FieldNode, arguments: Mapping[str, Any], is_list: bool) -> int:
        if "first" in arguments:
            return max(1, self.first_value(node, arguments["first"]))
        if is_list and node.name.value != CONNECTION_ITEMS:
            return self.default_list_size
        return 1

    def first_value(self, node: FieldNode, definition: GraphQLArgument) -> int:
        """``first`` as the executor coerces it; its default when not given."""
        value: Any = Undefined
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = coerce_input_literal(argument.value, definition.type, self.variables)
        if value is Undefined or value is None:
            value = definition.default_value
        return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _field_definition(parent: GraphQLNamedType | None, name: str) -> tuple[Any, Mapping[str, Any]] | None:
    if name == "__schema":
        return SchemaMetaFieldDef.type, {}
    if name == "__type":
        return TypeMetaFieldDef.type, {}
    if not isinstance(parent, GraphQLObjectType) or name not in parent.fields:
        return None
    field = parent.fields[name]
    return field.type, field.args


def _unwrap(field_type: Any) -> tuple[GraphQLNamedType | None, bool]:
    is_list = False
    while isinstance(field_type, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(field_type, GraphQLList)
        field_type = field_type.of_type
    return field_type, is_list


def operation_cost(schema: GraphQLSchema, operation: OperationDefinitionNode,
                   fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any],
                   default_list_size: int) -> int:
    root = schema.get_root_type(operation.operation)
    counted = _coerced_variables(schema, operation, variables)
    return CostCounter(schema, fragments, counted, default_list_size).selection_cost(
        root, operation.selection_set)


def _coerced_variables(schema: GraphQLSchema, operation: OperationDefinitionNode,
                       variables: Mapping[str, Any]) -> VariableValues | None:
    """The variables as execution will see them (``$n: Int = 1000`` counts as 1000 when the
    request sends no ``n``; ``1000.0`` as 1000). Variables the executor will refuse count as
    absent: the operation fails before it reads anything."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
    return coerced if isinstance(coerced, VariableValues) else None


class CostLimiter(SchemaExtension):
    """Runs after validation, so the document is known to be well formed."""

    def __init__(self, *, max_cost: int, default_list_size: int) -> None:
        self.max_cost = max_cost
        self.default_list_size = default_list_size

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            cost = self._cost(document.definitions, context.operation_name, context.variables or {})
            if cost > self.max_cost:
                context.result = GraphQLExecutionResult(data=None, errors=[GraphQLError(
                    f"this operation would cost {cost} (limit {self.max_cost}): ask for fewer "
                    "items with `first`, fewer nested lists or fewer aliases",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": self.max_cost},
                )])
        yield

    def _cost(self, definitions: Any, operation_name: str | None, variables: Mapping[str, Any]) -> int:
        fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)
                      and (operation_name is None or (d.name and d.name.value == operation_name))]
        schema = self.execution_context.schema._schema
        return sum(operation_cost(schema, o, fragments, variables, self.default_list_size)
                   for o in operations[:1])
