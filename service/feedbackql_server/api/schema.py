"""Building the GraphQL schema from the registered kinds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import DuplicatedTypeName
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from feedbackql_server.api.cost import CostLimiter
from feedbackql_server.api.document_limits import DocumentLimiter, IntegerLiteralLimiter
from feedbackql_server.api.errors import ErrorCodes
from feedbackql_server.api.kind_inputs import build_kind_inputs, build_kind_mutation
from feedbackql_server.api.kind_types import KindTypes, build_kind_types
from feedbackql_server.api.model_types import TypeFactory, TypeNameClash
from feedbackql_server.api.mutations import Mutation
from feedbackql_server.api.queries import Query
from feedbackql_server.api.subscriptions import Subscription
from feedbackql_server.api.variable_limits import VariableListLimiter
from feedbackql_server.api.vectors import VectorMutation, VectorQuery
from feedbackql_server.kinds.plugin_dir import plugin_modules
from feedbackql_server.kinds.registry import KindRegistry, PluginError, load_registry
from feedbackql_server.settings import Settings

MAX_LIST_ITEMS = 1000
"""The longest list an operation takes (records per addRecords, responses per
submitResponses, ids per deleteRecords)."""


class FeedbackSchema(strawberry.Schema):
    """A schema that knows its kind types, and leaves error logging to ``ErrorCodes``."""

    kinds: KindTypes

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> ExecutionResult:
        """As strawberry's, but never a subscription: those run over WebSockets (``stream``).
        strawberry allows them on POST for its multipart protocol, which is off here, so
        one would otherwise run as a query and fail inside."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES) - {OperationType.SUBSCRIPTION}
        return await super().execute(query, variable_values, context_value, root_value, operation_name,
                                     allowed, operation_extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Domain errors are expected and unexpected ones are logged with a request id by
        # ErrorCodes; strawberry's default would log every error with a stack trace.
        return None


def checked_registry(*, builtin_only: bool = False, plugins_dir: Path | None = None,
                     extra_plugins: Iterable[object] = ()) -> KindRegistry:
    """The one start-up check behind ``serve``, ``schema`` and ``plugins`` (and the testing
    helper ``startup_error``), so that they agree: the plugins loaded and checked (kinds,
    models, names, widget files), then the schema built from them. A ``PluginError`` names the
    plugin at fault."""
    extra = [*(plugin_modules(plugins_dir) if plugins_dir is not None else ()), *extra_plugins]
    registry = load_registry(builtin_only=builtin_only, extra_plugins=extra)
    build_schema(registry)
    return registry


def build_schema(registry: KindRegistry, settings: Settings | None = None) -> FeedbackSchema:
    settings = settings or Settings()
    try:
        kinds = build_kind_types(registry, TypeFactory())
    except TypeNameClash as exc:
        raise PluginError(str(exc)) from exc
    # Kind-dependent mutations first: the order the schema has always printed them in.
    mutation = merge_types("Mutation", (build_kind_mutation(build_kind_inputs(kinds)), Mutation, VectorMutation))
    try:
        return _schema(settings, kinds, mutation)
    except DuplicatedTypeName as exc:  # the registry checks names up front; this is the backstop
        raise PluginError(f"a plugin's GraphQL type clashes with another type: {exc}") from exc


def _schema(settings: Settings, kinds: KindTypes, mutation: type) -> FeedbackSchema:
    cache_size = settings.document_cache_size
    # The depth and alias rules are built once: strawberry's limiters define a new rule class
    # per instance, and the validation cache is keyed by the rule classes, so limiters made
    # per request made every request miss the cache and be validated again.
    limits = [*QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
              *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules]
    extensions: list[Any] = [
        lambda: ErrorCodes(suggestions=settings.field_suggestions_enabled),
        lambda: ParserCache(maxsize=cache_size),
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        DocumentLimiter,
        lambda: CostLimiter(max_cost=settings.max_query_cost,
                            default_list_size=settings.default_list_size),
        lambda: VariableListLimiter(max_items=max(settings.max_records_per_call, MAX_LIST_ITEMS)),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    # Last, so that the limits above are part of what is cached.
    extensions.append(lambda: ValidationCache(maxsize=cache_size))
    extensions.append(IntegerLiteralLimiter)  # after validation: it replaces what validation found
    config = StrawberryConfig(disable_field_suggestions=not settings.field_suggestions_enabled)
    query = merge_types("Query", (Query, VectorQuery))
    schema = FeedbackSchema(query=query, mutation=mutation, subscription=Subscription,
                            extensions=extensions, config=config, types=kinds.object_types)
    schema.kinds = kinds
    return schema
