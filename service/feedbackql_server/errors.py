"""Domain errors: expected failures that reach clients with a stable ``extensions.code``.

``CODES`` is the one list of every code the service answers with (from GraphQL, the HTTP
routes and the middleware); the SDK's and the web UI's lists are checked equal to it by
``tests/test_error_codes.py``, and a code written anywhere in the service but missing here
fails the same test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple, overload

from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from feedbackql_server.kinds.problems import INVALID, Problem, problems_of


class Code(NamedTuple):
    status: int
    """The HTTP status when the error is answered outside GraphQL (GraphQL answers say 200)."""
    meaning: str


CODES: dict[str, Code] = {
    "BAD_REQUEST": Code(400, "the request cannot be understood"),
    "GRAPHQL_VALIDATION": Code(400, "the operation does not match the schema"),
    "VALIDATION": Code(400, "input that breaks a rule; extensions.errors lists each problem"),
    "UNAUTHENTICATED": Code(401, "no valid API key"),
    "FORBIDDEN": Code(403, "the caller may see this but not change it"),
    "NOT_FOUND": Code(404, "nothing the caller can see has this id or name"),
    "METHOD_NOT_ALLOWED": Code(405, "the route does not take this HTTP method"),
    "CONFLICT": Code(409, "the change clashes with what is stored (a name taken, a stale version)"),
    "IDEMPOTENCY_KEY_REUSED": Code(422, "this Idempotency-Key was used with another request"),
    "IDEMPOTENCY_KEY_IN_PROGRESS": Code(409, "the first request with this Idempotency-Key is still running: retry"),
    "PAYLOAD_TOO_LARGE": Code(413, "the body or a list in it is over its limit"),
    "QUERY_TOO_COSTLY": Code(400, "the operation would cost more than the limit"),
    "RATE_LIMITED": Code(429, "too many requests: retry after extensions.retryAfter seconds"),
    "PLUGIN_UNAVAILABLE": Code(400, "a kind the dataset uses is not installed"),
    "PLUGIN_ERROR": Code(500, "a kind's own code failed; the details are in the service's log"),
    "INTERNAL": Code(500, "an unexpected failure; extensions.requestId names it in the log"),
    "TIMEOUT": Code(503, "the request took longer than the service allows: retry or ask for less"),
    "UNAVAILABLE": Code(503, "the database cannot be reached, or live events were dropped: retry shortly"),
}
"""Every ``extensions.code`` the service sends, with what it means and its HTTP status."""


class DomainError(Exception):
    """An expected failure the client can act on. ``extensions`` is read by graphql-core."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **details}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"

    MISSING_KEY = "send a valid API key as 'Authorization: Bearer <key>'"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class TooCostly(DomainError):
    """A query that would read too much for what the database can serve from an index."""

    code = "QUERY_TOO_COSTLY"


class RateLimited(DomainError):
    """The caller asked for more than its share; ``retryAfter``: whole seconds to wait."""

    code = "RATE_LIMITED"

    @classmethod
    def after(cls, message: str, wait_seconds: float) -> RateLimited:
        seconds = max(1, math.ceil(wait_seconds))
        return cls(f"{message}; retry after {seconds} s", retryAfter=seconds)


class Unavailable(DomainError):
    """Something the answer depends on is out of reach for now; trying again later can work."""

    code = "UNAVAILABLE"


class PluginUnavailable(DomainError):
    """A kind the dataset uses is not installed, or cannot read what is stored for it."""

    code = "PLUGIN_UNAVAILABLE"


class PluginFailed(DomainError):
    """A kind's own code raised an unexpected exception; details are logged, not sent."""

    code = "PLUGIN_ERROR"


class IdempotencyKeyReused(DomainError):
    """An ``Idempotency-Key`` sent again with a different request: the key names one request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInProgress(DomainError):
    """An ``Idempotency-Key`` whose first request has not finished: try again shortly."""

    code = "IDEMPOTENCY_KEY_IN_PROGRESS"


MAX_REPORTED = 100
"""Problems listed in one error (a 10,000-span answer could have as many); ``unreported``
counts the rest."""
MAX_IN_MESSAGE = 10


class Invalid(DomainError):
    """Input that breaks a rule. ``path`` points at the offending part of the input (in the
    schema's names), ``reason`` says why in a word a program can test (``required``,
    ``unknown_option``, pydantic's error types, a kind's own reasons), ``question`` names the
    question it concerns. ``extensions.errors`` lists every problem found (this one alone,
    unless several were combined with ``all_of``)."""

    code = "VALIDATION"

    def __init__(self, message: str, path: Sequence[str | int] = (), *, reason: str = INVALID,
                 question: str | None = None, more: Sequence[dict[str, Any]] = ()) -> None:
        located = f"{_dotted(path)}: {message}" if path else message
        details: dict[str, Any] = {"path": list(path), "reason": reason}
        if question is not None:
            details["question"] = question
        entries = [{"message": located, **details}, *more]
        super().__init__(_summary(entries), **details)
        self.entries = entries
        self.extensions["errors"] = entries[:MAX_REPORTED]
        if len(entries) > MAX_REPORTED:
            self.extensions["unreported"] = len(entries) - MAX_REPORTED
        self.first = (message, list(path), reason, question)


def _summary(entries: Sequence[dict[str, Any]]) -> str:
    if len(entries) == 1:
        return str(entries[0]["message"])
    shown = "; ".join(entry["message"] for entry in entries[:MAX_IN_MESSAGE])
    rest = f"; and {len(entries) - MAX_IN_MESSAGE} more" if len(entries) > MAX_IN_MESSAGE else ""
    return f"{len(entries)} problems: {shown}{rest}"


def all_of(errors: Sequence[Invalid]) -> Invalid:
    """One error that reports every problem in ``errors`` (which must not be empty); the
    first gives ``path``, ``reason`` and ``question``."""
    if len(errors) == 1:
        return errors[0]
    message, path, reason, question = errors[0].first
    return Invalid(message, path, reason=reason, question=question,
                   more=[entry for error in errors for entry in error.entries][1:])


@overload
def within(error: Invalid, prefix: Sequence[str | int]) -> Invalid: ...
@overload
def within(error: DomainError, prefix: Sequence[str | int]) -> DomainError: ...
def within(error: DomainError, prefix: Sequence[str | int]) -> DomainError:
    """``error`` about a part of a larger input (``prefix``, e.g. ``["inputs", 1]``): its paths
    and message then point at that part, so a batch's error says which input it is about."""
    if not isinstance(error, Invalid):
        details = {key: value for key, value in error.extensions.items() if key != "code"}
        return type(error)(f"{_dotted(prefix)}: {error.message}", **details)
    return all_of([
        Invalid(_unlocated(entry["message"], entry["path"]), [*prefix, *entry["path"]],
                reason=entry["reason"], question=entry.get("question"))
        for entry in error.entries
    ])


def _unlocated(message: str, path: Sequence[str | int]) -> str:
    return message.removeprefix(f"{_dotted(path)}: ") if path else message


def invalid_from_pydantic(exc: PydanticValidationError, path: Sequence[str | int] = (), *,
                          question: str | None = None) -> Invalid:
    """Every problem pydantic found, as one ``VALIDATION`` error with readable paths in the
    schema's (camelCase) names and pydantic's error types as reasons."""
    return all_of([
        Invalid(str(error["msg"]).removeprefix("Value error, "),
                [*path, *(_schema_name(p) for p in error["loc"] if not _is_internal(p))],
                reason=_reason(error), question=question)
        for error in exc.errors(include_url=False, include_input=False)
    ])


def invalid_from_problems(exc: ValueError, path: Sequence[str | int] = (), *,
                          question: str | None = None) -> Invalid:
    """A kind's ``ValueError`` (or ``Problem``/``Problems``) as one ``VALIDATION`` error."""
    return all_of([Invalid(problem.message, [*path, *problem.path], reason=problem.reason, question=question)
                   for problem in problems_of(exc)])


def _reason(error: Any) -> str:
    # A ValueError raised inside a validator is pydantic's "value_error": the kind's own rule.
    reason = str(error["type"])
    context = error.get("ctx") or {}
    problem = context.get("error")
    return problem.reason if isinstance(problem, Problem) else reason


def _schema_name(part: Any) -> Any:
    return to_camel(part) if isinstance(part, str) else part


def _is_internal(part: Any) -> bool:
    # pydantic adds the names of constrained/function types to locations; they mean nothing
    # to a client ("function-after[...]", "constrained-str").
    return isinstance(part, str) and ("[" in part or part.startswith("constrained"))


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
