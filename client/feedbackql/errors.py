"""Errors the SDK raises: the server's ``extensions.code`` becomes an exception class.

``ERROR_CLASSES`` has a class for every code the service sends (the server's
``feedbackql_server.errors.CODES``; ``tests/test_error_codes.py`` checks the two lists are
equal, since this package installs without the server and cannot import its list).
"""

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


class GraphQLValidationError(ValidationError):
    """The operation does not match the schema (a misspelt field, a wrong variable type)."""

    code = "GRAPHQL_VALIDATION"


class QueryTooCostlyError(ValidationError):
    """The operation would cost more than the service allows: ask for smaller pages."""

    code = "QUERY_TOO_COSTLY"


class BadRequestError(FeedbackQLError):
    code = "BAD_REQUEST"


class MethodNotAllowedError(FeedbackQLError):
    code = "METHOD_NOT_ALLOWED"


class PayloadTooLargeError(FeedbackQLError):
    """The body, or a list in it, is over the service's limit: send smaller batches."""

    code = "PAYLOAD_TOO_LARGE"


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


class IdempotencyKeyReusedError(FeedbackQLError):
    """An ``Idempotency-Key`` sent with another request than the one it was first used for."""

    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInProgressError(FeedbackQLError):
    """The first request with this ``Idempotency-Key`` is still running (retried by the SDK)."""

    code = "IDEMPOTENCY_KEY_IN_PROGRESS"


class RateLimitedError(FeedbackQLError):
    code = "RATE_LIMITED"


class PluginUnavailableError(FeedbackQLError):
    """A kind the dataset uses is not installed on the service."""

    code = "PLUGIN_UNAVAILABLE"


class PluginError(FeedbackQLError):
    """A kind's own code failed on the service; its log has the details."""

    code = "PLUGIN_ERROR"


class ServerError(FeedbackQLError):
    """INTERNAL, or an answer that is not GraphQL at all."""

    code = "INTERNAL"


class ServiceTimeoutError(ServerError):
    """The request took longer than the service allows (retried by the SDK)."""

    code = "TIMEOUT"


class UnavailableError(ServerError):
    """The service's database cannot be reached (retried by the SDK)."""

    code = "UNAVAILABLE"


class ConnectionFailed(FeedbackQLError):
    """No answer from the service (raised by the SDK itself, never sent by the server)."""

    code = "CONNECTION"


ERROR_CLASSES: dict[str, type[FeedbackQLError]] = {
    cls.code: cls for cls in (
        ValidationError, GraphQLValidationError, QueryTooCostlyError, BadRequestError, MethodNotAllowedError,
        PayloadTooLargeError, AuthenticationError, ForbiddenError, NotFoundError, ConflictError,
        IdempotencyKeyReusedError, IdempotencyKeyInProgressError, RateLimitedError, PluginUnavailableError,
        PluginError, ServerError, ServiceTimeoutError, UnavailableError)
}
"""The class of every code the service sends."""

RETRIED = (RateLimitedError, ServiceTimeoutError, UnavailableError, IdempotencyKeyInProgressError)
"""Answers that say "try again": the SDK retries them (mutations carry their key)."""


def from_graphql(error: dict[str, Any]) -> FeedbackQLError:
    extensions = error.get("extensions") or {}
    code = extensions.get("code", "INTERNAL")
    cls = ERROR_CLASSES.get(code, FeedbackQLError)
    raised = cls(error.get("message", code), extensions.get("path", ()), extensions)
    raised.code = code  # a code this SDK does not know yet (a newer service) is still readable
    return raised
