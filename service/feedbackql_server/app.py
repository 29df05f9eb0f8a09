"""The ASGI application: GraphQL on /graphql, health on /healthz, storage in the lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from feedbackql_server.api.live_sessions import LiveSessions
from feedbackql_server.api.schema import build_schema
from feedbackql_server.domain import dataset_memory, datasets, identity, invariants, search_index
from feedbackql_server.domain.queue import QueuePools
from feedbackql_server.domain.read_quota import ReadQuotas
from feedbackql_server.domain.session import Limits, Services
from feedbackql_server.domain.vector_index import IndexOptions, VectorIndexes
from feedbackql_server.edge.exports import export_routes
from feedbackql_server.edge.graphql_app import GraphQLApp
from feedbackql_server.edge.middleware.body_limit import AnonymousBodyLimit, BodySizeLimit
from feedbackql_server.edge.middleware.graphql_response_media import GraphQLResponseMedia
from feedbackql_server.edge.middleware.idempotency import Idempotency
from feedbackql_server.edge.middleware.outage import DatabaseOutage
from feedbackql_server.edge.middleware.rate_limit import RateLimit
from feedbackql_server.edge.middleware.request_timeout import RequestTimeout
from feedbackql_server.edge.upload import upload_routes
from feedbackql_server.edge.webui import ui_routes
from feedbackql_server.events import open_broker
from feedbackql_server.kinds.registry import KindRegistry, load_registry
from feedbackql_server.rate_limits import RateLimits
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage

log = logging.getLogger("feedbackql_server")
ANONYMOUS_MAX_BYTES = 64 * 1024
SERVER_SELECTION_MS = 3_000
"""How long a request waits for an unreachable database before it is told UNAVAILABLE."""


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
            lease_seconds=settings.lease_seconds, max_scan_records=settings.max_scan_records),
            vector_indexes=VectorIndexes(IndexOptions(
                folder=settings.vector_index_dir, min_approximate=settings.vector_approximate_min,
                approximate=registry.vector_indexes[0] if registry.vector_indexes else None)),
            read_quotas=getattr(app.state, "read_quotas", None))
        await dataset_memory.sweep(app.state.services)
        app.state.sessions = LiveSessions()
        await search_index.reindex_search_words(app.state.services)
        try:
            yield
        finally:
            await app.state.services.vector_indexes.save_all()
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
            *export_routes(),
            *upload_routes(),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *ui_routes(registry),
        ],
        lifespan=lifespan,
    )
    # Added last runs first: CORS, then status codes for graphql-response+json, then refuse
    # oversized bodies (any, then anonymous ones), then over-eager clients, then time out, then
    # answer a retried Idempotency-Key, then turn an unreachable database into UNAVAILABLE.
    app.add_middleware(DatabaseOutage)
    app.add_middleware(Idempotency)
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    app.state.request_timeout_seconds = settings.request_timeout_seconds  # uploads stop in time
    if settings.rate_limit_per_second > 0:
        app.state.read_quotas = ReadQuotas(settings.read_buckets_per_second, settings.read_buckets_burst)
        app.state.rate_limits = RateLimits(settings.rate_limit_per_second, settings.rate_limit_burst,
                                           settings.max_requests_in_flight_per_key,
                                           cooling=app.state.read_quotas.cooling)
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
