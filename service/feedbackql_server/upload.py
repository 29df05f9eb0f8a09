"""``POST /datasets/{id}/records``: records as JSON lines, for bulk loads.

GraphQL's coercion of ``records: [RecordInput!]!`` costs about 255 ms per 1,000 records
(strawberry builds an object for every nested input), most of a bulk load's time; there is no
public way to skip it for one argument. This endpoint takes the same records as JSON lines —
one ``RecordInput`` per line, in the schema's names (``{"fields": {...}, "externalId": "a1",
"suggestions": [{"question": "q", "value": {"rating": 5}, "score": 0.9}]}``) — and gives them
to the same ingest, with the same validation and the same policy, 1,000 at a time. The answer
has the shape of ``addRecords``' payload over all lines (``errors[].index`` is the line's).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from feedbackql_server.domain.ingest import AddRecordsResult, RecordError
from feedbackql_server.domain.records import RecordSpec, SuggestionSpec
from feedbackql_server.domain.session import Services, Session
from feedbackql_server.domain.values import TypedValue
from feedbackql_server.errors import DomainError, Invalid
from feedbackql_server.http_errors import domain_error_response

RECORD_KEYS = frozenset({"fields", "externalId", "metadata", "suggestions"})
SUGGESTION_KEYS = frozenset({"question", "value", "score", "agent"})
Parsed = RecordSpec | RecordError


def upload_routes() -> list[Route]:
    return [Route("/datasets/{dataset_id}/records", upload, methods=["POST"])]


async def upload(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        session = await services.session_for(request.headers.get("authorization"))
        ref = request.path_params["dataset_id"]
        await session.dataset(ref, manage=True)  # before reading a body the caller may not send
        lines = (await request.body()).splitlines()
        parsed = await asyncio.to_thread(lambda: [_parsed(index, line) for index, line in enumerate(lines)])
        result = await _ingest(session, ref, parsed)
    except DomainError as error:
        return domain_error_response(error)
    return JSONResponse({"created": result.created, "updated": result.updated,
                         "errors": [vars(e) for e in sorted(result.errors, key=lambda e: e.index)]})


async def _ingest(session: Session, ref: str, parsed: list[Parsed | None]) -> AddRecordsResult:
    """Every good line, a batch at a time; errors carry the line's index."""
    total = AddRecordsResult(errors=[p for p in parsed if isinstance(p, RecordError)])
    good = [(index, p) for index, p in enumerate(parsed) if isinstance(p, RecordSpec)]
    size = session.services.limits.max_records_per_call
    for start in range(0, len(good), size):
        batch = good[start:start + size]
        result = await session.add_records(ref, [spec for _, spec in batch])
        total.created += result.created
        total.updated += result.updated
        total.errors += [RecordError(batch[e.index][0], e.code, e.message, e.problems) for e in result.errors]
    return total


def _parsed(index: int, line: bytes) -> Parsed | None:
    """A line's record, the error that keeps it out, or None for a blank line."""
    if not line.strip():
        return None
    try:
        return _record(json.loads(line))
    except (ValueError, RecursionError):
        return RecordError(index, "VALIDATION", "the line is not JSON")
    except Invalid as error:
        return RecordError(index, error.code, error.message)


def _record(data: Any) -> RecordSpec:
    if not isinstance(data, dict):
        raise Invalid("each line is a JSON object: a RecordInput")
    if unknown := sorted(set(data) - RECORD_KEYS):
        raise Invalid(f"unknown key(s) {unknown}; a record has {sorted(RECORD_KEYS)}")
    if "fields" not in data:
        raise Invalid("fields is required", ["fields"])
    external = data.get("externalId")
    if external is not None and not isinstance(external, str):
        raise Invalid("externalId is a string", ["externalId"])
    suggestions = data.get("suggestions") or []
    if not isinstance(suggestions, list):
        raise Invalid("suggestions is a list", ["suggestions"])
    return RecordSpec(fields=data["fields"], external_id=external, metadata=data.get("metadata"),
                      suggestions=tuple(_suggestion(s, ["suggestions", i]) for i, s in enumerate(suggestions)))


def _suggestion(data: Any, path: list[str | int]) -> SuggestionSpec:
    if not isinstance(data, dict) or not isinstance(data.get("question"), str) or set(data) - SUGGESTION_KEYS:
        raise Invalid("a suggestion is {question, value, score, agent}", path)
    value = data.get("value")
    if not isinstance(value, dict) or len(value) != 1:
        raise Invalid('value has one member, named by the question\'s kind: {"rating": 5}', [*path, "value"])
    ((kind, member),) = value.items()
    score, agent = data.get("score"), data.get("agent")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise Invalid("score is a number", [*path, "score"])
    if agent is not None and not isinstance(agent, str):
        raise Invalid("agent is a string", [*path, "agent"])
    return SuggestionSpec(question=data["question"], value=TypedValue(kind=kind, value=member),
                          score=score, agent=agent)
