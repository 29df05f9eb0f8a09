"""HTTP endpoints: ``GET /datasets/{id}/export`` and ``GET /datasets/{id}/training/{task}``.

Same Bearer key and policy as GraphQL: only the dataset's managers (owners, the workspace's
admins) export, since an export holds every labeler's answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from feedbackql_server.domain.session import Services
from feedbackql_server.errors import DomainError, Invalid
from feedbackql_server.export import formats, training
from feedbackql_server.export.rows import record_rows
from feedbackql_server.http_errors import domain_error_response
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.storage import Storage
from feedbackql_server.storage.documents import DatasetDoc

Doc = dict[str, Any]
RECORD_COLUMNS = ["id", "external_id", "status", "fields", "metadata", "suggestions", "responses"]


def export_routes(registry: KindRegistry) -> list[Route]:
    async def export(request: Request) -> Response:
        return await _guarded(request, lambda storage, dataset: _records(storage, dataset, request))

    async def train(request: Request) -> Response:
        return await _guarded(request, lambda storage, dataset: _training(storage, registry, dataset, request))

    return [Route("/datasets/{dataset_id}/export", export),
            Route("/datasets/{dataset_id}/training/{task}", train)]


async def _guarded(request: Request, respond: Any) -> Response:
    try:
        services: Services = request.app.state.services
        session = await services.session_for(request.headers.get("authorization"))
        dataset = await session.dataset_read_in_bulk(request.path_params["dataset_id"])
        response: Response = await respond(services.storage, dataset)
        return response
    except DomainError as error:
        return domain_error_response(error)


def _format(request: Request) -> formats.Format:
    return formats.get_format(request.query_params.get("format", "jsonl"))


def _stream(rows: AsyncIterator[Doc], chosen: formats.Format, columns: list[str], rules: dict[str, Any],
            final: Any = None, filename: str = "export") -> StreamingResponse:
    encoded = json.dumps(rules)
    body = chosen.encode(rows, columns, {"feedbackql.rules": encoded}, final)
    return StreamingResponse(body, media_type=chosen.media_type, headers={
        "FeedbackQL-Export-Rules": encoded,
        "Content-Disposition": f'attachment; filename="{filename}.{chosen.extension}"',
        "X-Content-Type-Options": "nosniff",
    })


async def _records(storage: Storage, dataset: DatasetDoc, request: Request) -> Response:
    chosen = _format(request)
    rules = {"task": "records", "rows": "one per record, in insertion order",
             "responses": "every live response (submitted, draft, discarded) with its user"}
    return _stream(record_rows(storage, dataset), chosen, RECORD_COLUMNS, rules,
                   filename=f"{dataset['name']}-records")


def training_options(params: Any) -> training.TrainingOptions:
    def number(key: str, kind: type) -> Any:
        raw = params.get(key)
        if raw is None:
            return None
        try:
            value = kind(raw)
        except ValueError:
            raise Invalid(f"{key} must be a number", [key]) from None
        if not math.isfinite(value):
            raise Invalid(f"{key} must be a finite number", [key])
        return value

    return training.TrainingOptions(
        field=params.get("field"), question=params.get("question"), strategy=params.get("strategy"),
        best_vs_worst=params.get("best_vs_worst", "false").lower() in ("1", "true", "yes"),
        threshold=number("threshold", float), top_k=number("top_k", int),
    )


async def _training(storage: Storage, registry: KindRegistry, dataset: DatasetDoc, request: Request) -> Response:
    chosen = _format(request)
    options = training_options(request.query_params)
    plan = training.plan(registry, dataset, request.path_params["task"], options)
    rows = training.stream(storage, dataset, plan)
    return _stream(rows, chosen, plan.columns, plan.rules, lambda: {"feedbackql.stats": json.dumps(plan.stats)},
                   filename=f"{dataset['name']}-{plan.name}")
