"""HTTP endpoints: ``GET /datasets/{id}/export`` and ``GET /datasets/{id}/training/{task}``.

Same Bearer key and policy as GraphQL: only the dataset's managers (owners, the workspace's
admins) export, since an export holds every labeler's answers.

Spreadsheet safety (a leading ``'`` on CSV cells a spreadsheet would run as a formula) is on
by default for the record export, a file meant for people, and off for training exports,
whose texts must reach the trainer unchanged; ``spreadsheet_safe=true|false`` overrides it.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from feedbackql_server.domain.listing import MetadataCriterion
from feedbackql_server.domain.session import Services, Session
from feedbackql_server.edge.errors import domain_error_response
from feedbackql_server.edge.middleware.request_timeout import lift_deadline
from feedbackql_server.errors import DomainError, Invalid
from feedbackql_server.export import formats, training, typed
from feedbackql_server.export.rows import record_columns
from feedbackql_server.export.selection import Selection
from feedbackql_server.export.spool import Spool

Doc = dict[str, Any]
CSV_TYPES = "CSV carries no types: every cell is text, lists and structs are JSON text"
TRUE = ("1", "true", "yes")


def export_routes() -> list[Route]:
    async def export(request: Request) -> Response:
        return await _guarded(request, _records)

    async def train(request: Request) -> Response:
        return await _guarded(request, _training)

    return [Route("/datasets/{dataset_id}/export", export),
            Route("/datasets/{dataset_id}/training/{task}", train)]


async def _guarded(request: Request, respond: Callable[[Session, Request], Awaitable[Response]]) -> Response:
    """The caller's answer, or a domain error in the usual shape; the caller acts through its
    ``Session`` alone (which checks that it may read the dataset's answers in bulk)."""
    try:
        services: Services = request.app.state.services
        session = await services.session_for(request.headers.get("authorization"))
        return await respond(session, request)
    except DomainError as error:
        return domain_error_response(error)


def _format(request: Request) -> formats.Format:
    return formats.get_format(request.query_params.get("format", "jsonl"))


def _spreadsheet_safe(request: Request, default: bool) -> bool:
    raw = request.query_params.get("spreadsheet_safe")
    return default if raw is None else raw.lower() in TRUE


def _csv_rules(chosen: formats.Format, safe: bool) -> dict[str, Any]:
    if chosen.carries_types:
        return {}
    guard = ("cells starting with = + - @ tab or CR get a leading ' (spreadsheet_safe)" if safe
             else "cells exactly as stored (spreadsheet_safe=false)")
    return {"csv": {"types": CSV_TYPES, "cells": guard}}


def _stream(rows: AsyncIterator[Doc], chosen: formats.Format, columns: formats.Columns, rules: dict[str, Any],
            final: Any = None, filename: str = "export", safe: bool = False) -> StreamingResponse:
    encoded = json.dumps(rules)
    body = chosen.encode(rows, columns, {"feedbackql.rules": encoded}, final, spreadsheet_safe=safe)
    return StreamingResponse(body, media_type=chosen.media_type, headers={
        "FeedbackQL-Export-Rules": encoded,
        "Content-Disposition": f'attachment; filename="{filename}.{chosen.extension}"',
        "X-Content-Type-Options": "nosniff",
    })


async def _records(session: Session, request: Request) -> Response:
    dataset, rows = await session.record_rows(request.path_params["dataset_id"])
    chosen = _format(request)
    safe = _spreadsheet_safe(request, default=True)
    rules = {"task": "records", "rows": "one per record, in insertion order",
             "responses": "every live response (submitted, draft, discarded) with its user",
             **_csv_rules(chosen, safe)}
    columns = record_columns(dataset)
    if "vectors" in columns:
        rules["vectors"] = {"by space name": typed.describe(dict(columns["vectors"].members)),
                            "missing": "null where a record has no vector in the space"}
    return _stream(rows, chosen, columns, rules,
                   filename=f"{dataset['name']}-records", safe=safe)


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

    selection = Selection(completed_only=params.get("completed_only", "false").lower() in TRUE,
                          min_submitted=number("min_submitted", int), min_agreement=number("min_agreement", float),
                          metadata=_metadata(params.get("metadata")))
    return training.TrainingOptions(
        field=params.get("field"), question=params.get("question"), strategy=params.get("strategy"),
        best_vs_worst=params.get("best_vs_worst", "false").lower() in TRUE,
        implicit_prompt=params.get("implicit_prompt", "false").lower() in TRUE,
        threshold=number("threshold", float), top_k=number("top_k", int), selection=selection,
    )


def _metadata(raw: str | None) -> tuple[MetadataCriterion, ...]:
    """``metadata`` is a JSON list shaped like GraphQL's ``MetadataFilter``:
    ``[{"name": "source", "values": ["web"]}, {"name": "length", "ge": 10}]``."""
    if raw is None:
        return ()
    try:
        given = json.loads(raw)
        return tuple(MetadataCriterion(name=str(m["name"]), values=m.get("values"), ge=m.get("ge"), le=m.get("le"))
                     for m in given)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise Invalid('metadata is a JSON list like [{"name": "source", "values": ["web"]}]',
                      ["metadata"]) from None


async def _training(session: Session, request: Request) -> Response:
    dataset = await session.dataset_read_in_bulk(request.path_params["dataset_id"])
    lift_deadline(request.scope)  # authorized: it now makes every row before it can start
    chosen = _format(request)
    options = training_options(request.query_params)
    plan, rows = await session.training_rows(request.path_params["dataset_id"], request.path_params["task"], options)
    spool = Spool()
    try:
        if await spool.fill(rows) == 0:
            raise training.no_rows(plan)
    except BaseException:
        spool.close()
        raise
    safe = _spreadsheet_safe(request, default=False)
    rules = {**plan.rules, "columns": typed.describe(plan.column_types), **_csv_rules(chosen, safe),
             "counts": plan.stats}
    return _stream(spool.rows(), chosen, plan.column_types, rules, lambda: {"feedbackql.stats": json.dumps(plan.stats)},
                   filename=f"{dataset['name']}-{plan.name}", safe=safe)
