"""``POST /datasets/{id}/records``: records as JSON lines, for bulk loads.

GraphQL's coercion of ``records: [RecordInput!]!`` costs about 255 ms per 1,000 records
(strawberry builds an object for every nested input), most of a bulk load's time; there is no
public way to skip it for one argument. This endpoint takes the same records as JSON lines —
one ``RecordInput`` per line, in the schema's names (``{"fields": {...}, "externalId": "a1",
"suggestions": [{"question": "q", "value": {"rating": 5}, "score": 0.9}]}``) — and gives them
to the same ingest, with the same validation and the same policy, 1,000 at a time. The answer
has the shape of ``addRecords``' payload over all lines (``errors[].index`` is the line's);
``?onConflict=KEEP_RESPONSES`` works as the mutation's argument. An upload that would outlast
the request timeout stops between batches and answers ``TIMEOUT`` with what it did and
``linesDone``; sending the same file again skips the records already there (unchanged).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from feedbackql_server.domain.ingest import AddRecordsResult, RecordError
from feedbackql_server.domain.readd import OnConflict
from feedbackql_server.domain.records import ImportedResponseSpec, RecordSpec, SuggestionSpec
from feedbackql_server.domain.responses import AnswerSpec
from feedbackql_server.domain.session import Services, Session
from feedbackql_server.domain.values import TypedValue
from feedbackql_server.edge.errors import domain_error_response, error_response
from feedbackql_server.edge.middleware.request_timeout import lift_deadline
from feedbackql_server.errors import DomainError, Invalid

RECORD_KEYS = frozenset({"fields", "externalId", "metadata", "suggestions", "responses", "vectors"})
SUGGESTION_KEYS = frozenset({"question", "value", "score", "agent"})
RESPONSE_KEYS = frozenset({"user", "status", "values"})
Parsed = RecordSpec | RecordError
BUDGET = 0.8
"""The share of the request timeout an upload spends on batches: it stops starting batches in
time to say what it did, rather than being cut off by the timeout with no count."""


def upload_routes() -> list[Route]:
    return [Route("/datasets/{dataset_id}/records", upload, methods=["POST"])]


async def upload(request: Request) -> Response:
    services: Services = request.app.state.services
    deadline = time.monotonic() + BUDGET * request.app.state.request_timeout_seconds
    try:
        session = await services.session_for(request.headers.get("authorization"))
        ref = request.path_params["dataset_id"]
        on_conflict = _on_conflict(request.query_params.get("onConflict"))
        await session.dataset(ref, manage=True)  # before reading a body the caller may not send
        lines = (await request.body()).splitlines()
        parsed = await asyncio.to_thread(lambda: [_parsed(index, line) for index, line in enumerate(lines)])
        # From here the upload keeps its own deadline: it starts no batch past it and always
        # finishes the one it started, so it can say what it did instead of being cut off mid-batch.
        lift_deadline(request.scope)
        result, lines_done = await _ingest(session, ref, parsed, on_conflict, deadline)
    except DomainError as error:
        return domain_error_response(error)
    report = _report(result)
    if lines_done < len(parsed):
        return error_response(
            503, "TIMEOUT",
            f"stopped before the request's time ran out, after {lines_done} of {len(parsed)} lines "
            f"({result.created} created, {result.updated} updated, {result.unchanged} unchanged); send the "
            "file again: records already there are recognised as unchanged and skipped quickly",
            linesDone=lines_done, lines=len(parsed), **report)
    return JSONResponse(report)


def _report(result: AddRecordsResult) -> dict[str, Any]:
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "refused": result.refused, "responses": result.responses,
            "errors": [vars(e) for e in sorted(result.errors, key=lambda e: e.index)]}


def _on_conflict(value: str | None) -> OnConflict:
    try:
        return OnConflict[value] if value else OnConflict.REFUSE
    except KeyError:
        raise Invalid(f"onConflict is one of {[c.name for c in OnConflict]}", ["onConflict"]) from None


async def _ingest(session: Session, ref: str, parsed: list[Parsed | None], on_conflict: OnConflict,
                  deadline: float) -> tuple[AddRecordsResult, int]:
    """Every good line, a batch at a time (errors carry the line's index), while a batch as
    long as the longest so far still fits before ``deadline``; the result, and how many lines
    (from the first) were handled. The first batch always runs, so that each resend of a file
    gets further even when reading it used up the time."""
    good = [(index, p) for index, p in enumerate(parsed) if isinstance(p, RecordSpec)]
    total = AddRecordsResult()
    size = session.services.limits.max_records_per_call
    longest = 0.0
    lines_done = len(parsed)
    for start in range(0, len(good), size):
        if start > 0 and time.monotonic() + longest > deadline:
            lines_done = good[start][0]
            break
        began = time.monotonic()
        batch = good[start:start + size]
        result = await session.add_records(ref, [spec for _, spec in batch], on_conflict)
        longest = max(longest, time.monotonic() - began)
        total.created += result.created
        total.updated += result.updated
        total.unchanged += result.unchanged
        total.responses += result.responses
        total.errors += [RecordError(batch[e.index][0], e.code, e.message, e.problems) for e in result.errors]
    total.errors += [p for p in parsed[:lines_done] if isinstance(p, RecordError)]
    return total, lines_done


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
    suggestions, responses = _list(data, "suggestions"), _list(data, "responses")
    return RecordSpec(fields=data["fields"], external_id=external, metadata=data.get("metadata"),
                      suggestions=tuple(_suggestion(s, ["suggestions", i]) for i, s in enumerate(suggestions)),
                      responses=tuple(_response(r, ["responses", i]) for i, r in enumerate(responses)),
                      vectors=data.get("vectors"))


def _list(data: dict[str, Any], key: str) -> list[Any]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise Invalid(f"{key} is a list", [key])
    return items


def _typed(value: Any, path: list[str | int]) -> TypedValue:
    if not isinstance(value, dict) or len(value) != 1:
        raise Invalid('value has one member, named by the question\'s kind: {"rating": 5}', path)
    ((kind, member),) = value.items()
    return TypedValue(kind=kind, value=member)


def _response(data: Any, path: list[str | int]) -> ImportedResponseSpec:
    """``{"user": "ann", "status": "SUBMITTED", "values": [{"question": "q", "value": {"rating": 5}}]}``."""
    if (not isinstance(data, dict) or set(data) - RESPONSE_KEYS or not isinstance(data.get("user"), str)
            or not isinstance(data.get("status"), str)):
        raise Invalid("a response is {user, status, values}: user a username, status SUBMITTED, DRAFT or "
                      "DISCARDED", path)
    values = data.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, dict) and isinstance(v.get("question"), str)
                                               for v in values):
        raise Invalid("values is a list of {question, value}", [*path, "values"])
    return ImportedResponseSpec(
        user=data["user"], status=data["status"].lower(),
        values=tuple(AnswerSpec(question=v["question"], value=_typed(v.get("value"), [*path, "values", i, "value"]))
                     for i, v in enumerate(values)))


def _suggestion(data: Any, path: list[str | int]) -> SuggestionSpec:
    if not isinstance(data, dict) or not isinstance(data.get("question"), str) or set(data) - SUGGESTION_KEYS:
        raise Invalid("a suggestion is {question, value, score, agent}", path)
    typed = _typed(data.get("value"), [*path, "value"])
    score, agent = data.get("score"), data.get("agent")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise Invalid("score is a number", [*path, "score"])
    if agent is not None and not isinstance(agent, str):
        raise Invalid("agent is a string", [*path, "agent"])
    return SuggestionSpec(question=data["question"], value=typed, score=score, agent=agent)
