"""Domain errors: expected failures that reach clients with a stable ``extensions.code``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import ValidationError as PydanticValidationError


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


class PluginUnavailable(DomainError):
    """A kind the dataset uses is not installed, or cannot read what is stored for it."""

    code = "PLUGIN_UNAVAILABLE"


class PluginFailed(DomainError):
    """A kind's own code raised an unexpected exception; details are logged, not sent."""

    code = "PLUGIN_ERROR"


class Invalid(DomainError):
    """Input that breaks a rule. ``path`` points at the offending part of the input."""

    code = "VALIDATION"

    def __init__(self, message: str, path: Sequence[str | int] = ()) -> None:
        located = f"{_dotted(path)}: {message}" if path else message
        super().__init__(located, path=list(path))


def invalid_from_pydantic(exc: PydanticValidationError, path: Sequence[str | int] = ()) -> Invalid:
    """Map pydantic's first error to a ``VALIDATION`` error with a readable path."""
    first = exc.errors(include_url=False, include_input=False)[0]
    location = [*path, *(p for p in first["loc"] if not _is_internal(p))]
    message = str(first["msg"]).removeprefix("Value error, ")
    if len(exc.errors()) > 1:
        message += f" (and {len(exc.errors()) - 1} more problem(s))"
    return Invalid(message, location)


def _is_internal(part: Any) -> bool:
    # pydantic adds the names of constrained/function types to locations; they mean nothing
    # to a client ("function-after[...]", "constrained-str").
    return isinstance(part, str) and ("[" in part or part.startswith("constrained"))


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
