"""Errors the SDK raises: the server's ``extensions.code`` becomes an exception class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FeedbackQLError(Exception):
    """Base class; ``code`` is the server's error code, ``path`` the offending input part."""

    code = "ERROR"

    def __init__(self, message: str, path: Sequence[str | int] = (), details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.path = list(path)
        self.details = details or {}


class ValidationError(FeedbackQLError, ValueError):
    """Input that breaks a rule: raised before the network when the SDK can tell."""

    code = "VALIDATION"

    @property
    def problems(self) -> list[dict[str, Any]]:
        """Every problem the server found, each ``{message, path, reason, question}``."""
        listed: list[dict[str, Any]] = self.details.get("errors") or [
            {"message": self.message, "path": self.path, "reason": self.details.get("reason", "invalid")}]
        return listed


class AuthenticationError(FeedbackQLError):
    code = "UNAUTHENTICATED"


class ForbiddenError(FeedbackQLError):
    code = "FORBIDDEN"


class NotFoundError(FeedbackQLError):
    code = "NOT_FOUND"


class ConflictError(FeedbackQLError):
    code = "CONFLICT"

    @property
    def current_version(self) -> int | None:
        """For a response written with a stale version: the version it has now (0: none)."""
        version: int | None = self.details.get("currentVersion")
        return version


class RateLimitedError(FeedbackQLError):
    code = "RATE_LIMITED"


class ServerError(FeedbackQLError):
    """INTERNAL, TIMEOUT, or an answer that is not GraphQL at all."""

    code = "INTERNAL"


class ConnectionFailed(FeedbackQLError):
    code = "CONNECTION"


_BY_CODE: dict[str, type[FeedbackQLError]] = {
    cls.code: cls for cls in (ValidationError, AuthenticationError, ForbiddenError, NotFoundError,
                              ConflictError, RateLimitedError, ServerError)
}


def from_graphql(error: dict[str, Any]) -> FeedbackQLError:
    extensions = error.get("extensions") or {}
    code = extensions.get("code", "INTERNAL")
    cls = _BY_CODE.get(code, ValidationError if code in ("GRAPHQL_VALIDATION", "QUERY_TOO_COSTLY")
                       else FeedbackQLError)
    return cls(error.get("message", code), extensions.get("path", ()), extensions)
