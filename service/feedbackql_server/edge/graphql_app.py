"""The GraphQL endpoint as an ASGI app: strawberry's view, with the service's edge rules.

Only JSON POST bodies (no GET, no forms a cross-site page could send), graphql-transport-ws
only, errors refused before GraphQL runs answered in the usual error shape, and the caller
authenticated into the request's ``Context``.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from feedbackql_server.api.context import Context
from feedbackql_server.api.errors import coded
from feedbackql_server.api.live_sessions import RevocableTransportWS
from feedbackql_server.api.schema import FeedbackSchema
from feedbackql_server.domain.session import Services
from feedbackql_server.edge.errors import error_response
from feedbackql_server.edge.webui import SECURITY_HEADERS, graphiql_html
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = RevocableTransportWS

    def __init__(self, schema: FeedbackSchema, registry: KindRegistry, settings: Settings) -> None:
        # Queries only as JSON POST bodies: no GET (so no mutation through a link), and no
        # form or multipart bodies a cross-site form could send.
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql_enabled else None,
                         allow_queries_via_get=False, multipart_uploads_enabled=False,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         allowed_origins=settings.cors_allow_origins)
        self.kinds = schema.kinds
        self.registry = registry
        self.settings = settings
        self.max_subscriptions_per_connection = settings.max_subscriptions_per_connection

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()  # its scripts come from this service, not from a CDN

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphql_ide_html, headers=SECURITY_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's, but requests it refuses before GraphQL runs (a body that is not
        JSON, no query) are answered in the usual error shape, not as plain text, and a client
        that hangs up mid-body is not an application error."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except ClientDisconnect:
            return  # hung up before its body was read: there is no one to answer, nothing failed
        except HTTPException as exc:
            code = "BAD_REQUEST" if exc.status_code == 400 else "NOT_FOUND" if exc.status_code == 404 \
                else "METHOD_NOT_ALLOWED"
            response = error_response(exc.status_code, code, exc.reason)
        await response(scope, receive, send)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # A syntax error is answered before the schema's extensions run: give it its code here.
        if result.errors:
            result.errors = [error if (error.extensions or {}).get("code")
                             else coded(error, suggestions=self.settings.field_suggestions_enabled)
                             for error in result.errors]
        return await super().process_result(request, result)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            refused = exc.__cause__
            if isinstance(refused, InvalidOperationTypeError) and refused.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, "subscriptions run over a WebSocket on /graphql "
                                         "(graphql-transport-ws), not over HTTP") from None
            raise

    def decode_json(self, data: str | bytes) -> object:
        # json.loads raises RecursionError on absurdly nested input, UnicodeDecodeError on
        # bytes that are not UTF-8 and ValueError on integers of over 4,300 digits; as
        # JSONDecodeError strawberry answers them with a 400.
        try:
            return super().decode_json(data)
        except (RecursionError, ValueError) as exc:
            raise json.JSONDecodeError(f"unusable JSON ({type(exc).__name__})", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        # strawberry reads a body's fields with .get(): `null`, `1`, `"x"` or `true` made a
        # 500 with a traceback. A list is strawberry's batch, which it refuses itself.
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, 'the body is a JSON object: {"query": "...", "variables": {...}}')
        return parsed

    async def get_context(self, request: Any, response: Any) -> Context:
        services: Services = request.app.state.services
        user = await services.authenticate(request.headers.get("authorization"))
        return Context(request=request, services=services, kinds=self.kinds, settings=self.settings,
                       current_user=user, sessions=request.app.state.sessions)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Websockets carry the key in ``connection_init``: {"Authorization": "Bearer <key>"}."""
        context.authenticated(None)  # a header on the upgrade request does not count
        if not await context.reauthenticate():
            raise ConnectionRejectionError({"message": "send a valid API key as "
                                            '{"Authorization": "Bearer <key>"} in connection_init'})
        context.join_sessions()
        acknowledged: UnsetType = UNSET
        return acknowledged
