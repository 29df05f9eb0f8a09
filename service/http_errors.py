"""Errors answered before GraphQL runs, in the same shape as GraphQL errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   **extensions: Any) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status_code=status, headers=headers)
