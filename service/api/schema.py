"""Building the GraphQL schema from the registered kinds."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from feedbackql.api.errors import ErrorCodes
from feedbackql.api.inputs import build_input_types
from feedbackql.api.kind_types import KindTypes, build_kind_types
from feedbackql.api.model_types import TypeFactory, TypeNameClash
from feedbackql.api.mutations import build_mutation
from feedbackql.api.queries import build_query
from feedbackql.api.types import build_output_types
from feedbackql.kinds.registry import KindRegistry, PluginError
from feedbackql.settings import Settings


class FeedbackSchema(strawberry.Schema):
    """A schema that knows its kind types, and leaves error logging to ``ErrorCodes``."""

    kinds: KindTypes

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Domain errors are expected and unexpected ones are logged with a request id by
        # ErrorCodes; strawberry's default would log every error with a stack trace.
        return None


def build_schema(registry: KindRegistry, settings: Settings | None = None) -> FeedbackSchema:
    settings = settings or Settings()
    try:
        kinds = build_kind_types(registry, TypeFactory())
    except TypeNameClash as exc:
        raise PluginError(str(exc)) from exc
    types = build_output_types(kinds)
    inputs = build_input_types(kinds)
    extensions: list[Any] = [
        ErrorCodes,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
    ]
    schema = FeedbackSchema(
        query=build_query(types), mutation=build_mutation(types, inputs), extensions=extensions
    )
    schema.kinds = kinds
    return schema
