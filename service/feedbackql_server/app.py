"""The ASGI application: GraphQL on /graphql, health on /healthz, storage in the lifespan."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from cross_web import HTTPException
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
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
from feedbackql_server.api.live_sessions import LiveSessions, RevocableTransportWS
from feedbackql_server.api.schema import FeedbackSchema, build_schema
from feedbackql_server.body_limit import AnonymousBodyLimit, BodySizeLimit
from feedbackql_server.domain import datasets, identity, invariants
from feedbackql_server.domain.queue import QueuePools
from feedbackql_server.domain.session import Limits, Services
from feedbackql_server.events import open_broker
from feedbackql_server.export.routes import export_routes
from feedbackql_server.graphql_response_media import GraphQLResponseMedia
from feedbackql_server.http_errors import error_response
from feedbackql_server.idempotency import Idempotency
from feedbackql_server.kinds.registry import KindRegistry, load_registry
from feedbackql_server.outage import DatabaseOutage
from feedbackql_server.rate_limit import RateLimit, RateLimits
from feedbackql_server.request_timeout import RequestTimeout
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage
from feedbackql_server.upload import upload_routes
from feedbackql_server.webui import SECURITY_HEADERS, graphiql_html, ui_routes

log = logging.getLogger("feedbackql_server")
ANONYMOUS_MAX_BYTES = 64 * 1024
SERVER_SELECTION_MS = 3_000
"""How long a request waits for an unreachable database before it is told UNAVAILABLE."""


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


def _lifespan(settings: Settings, registry: KindRegistry) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Connect, bring the stored data up to date (layout, counters, crash repair), and give
    the app what requests share: storage, events, queue pools, live sessions."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.mongodb_uri:
            raise RuntimeError("no database: set MONGODB_URI or start with `feedbackql serve`")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=SERVER_SELECTION_MS,
            maxPoolSize=settings.mongodb_max_pool_size,
        )
        storage = Storage(client[settings.database_name])
        await storage.prepare(paths=settings.storage_paths)
        await datasets.count_uncounted(storage)
        finished = await invariants.finish_interrupted(storage)
        if finished.interrupted:
            log.warning("finished %d write(s) a crash interrupted", finished.interrupted)
        for finding in finished.findings:
            log.warning("after a crash, in dataset %s: %s", finding.dataset_id, finding.what)
        if settings.owner_api_key is not None:
            await identity.ensure_owner(storage, settings.owner_api_key.get_secret_value())
        app.state.storage = storage
        app.state.events = await open_broker(client[settings.database_name])
        app.state.queue_pools = QueuePools()
        app.state.services = Services(storage, registry, app.state.events, app.state.queue_pools, Limits(
            max_page_size=settings.max_page_size, max_records_per_call=settings.max_records_per_call,
            lease_seconds=settings.lease_seconds, max_scan_records=settings.max_scan_records))
        app.state.sessions = LiveSessions()
        try:
            yield
        finally:
            await app.state.events.close()
            await storage.close()
            await client.close()


    return lifespan


def create_app(settings: Settings | None = None, registry: KindRegistry | None = None) -> Starlette:
    settings = settings or Settings()
    registry = registry or load_registry(builtin_only=settings.builtin_plugins_only)
    schema = build_schema(registry, settings)
    graphql = GraphQLApp(schema, registry, settings)

    lifespan = _lifespan(settings, registry)

    async def healthz(request: Request) -> Response:
        ok = await request.app.state.storage.ping()
        return JSONResponse({"status": "ok" if ok else "degraded", "database": ok},
                            status_code=200 if ok else 503)

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            *export_routes(registry),
            *upload_routes(),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *ui_routes(registry),
        ],
        lifespan=lifespan,
    )
    # Added last runs first: refuse oversized bodies, then over-eager clients, then time out,
    # then answer a retried Idempotency-Key, then turn an unreachable database into UNAVAILABLE.
    app.add_middleware(DatabaseOutage)
    app.add_middleware(Idempotency)
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    app.state.request_timeout_seconds = settings.request_timeout_seconds  # uploads stop in time
    if settings.rate_limit_per_second > 0:
        app.state.rate_limits = RateLimits(settings.rate_limit_per_second, settings.rate_limit_burst,
                                           settings.max_requests_in_flight_per_key)
        app.add_middleware(RateLimit, limits=app.state.rate_limits, exempt=frozenset({"/healthz"}))
    app.add_middleware(AnonymousBodyLimit, max_bytes=ANONYMOUS_MAX_BYTES)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(GraphQLResponseMedia)
    if settings.cors_allow_origins:
        # Any request header may be asked for (a client library's own headers must not make
        # the preflight fail); keys travel only in Authorization, never in cookies.
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_allow_origins,
                           allow_methods=["GET", "POST"], allow_headers=["*"],
                           expose_headers=["Retry-After", "FeedbackQL-Export-Rules", "Content-Disposition",
                                           "Idempotency-Replayed"])
    return app
