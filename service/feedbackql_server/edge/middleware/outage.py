"""A database that cannot be reached is ``UNAVAILABLE`` (503) in the usual error shape."""

from __future__ import annotations

import asyncio

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from feedbackql_server.edge.errors import StartTracker, error_response

FERRETDB_INTERNAL_ERROR = 1
BACKEND_GONE = ("failed to connect", "connection refused", "broken pipe", "connection reset", "conn closed",
                "unexpected eof", "unexpected postmaster exit", "sqlstate 08", "sqlstate 57p")
"""What FerretDB's InternalError says when its PostgreSQL is gone (SQLSTATE class 08 is a
connection exception, 57P an operator intervention such as a shutdown)."""
BACKEND_SHORT = ("sqlstate 53", "no space left on device")
"""... or out of a resource until someone frees it: class 53 is insufficient resources (53100 a
full disk: every write failed with a masked INTERNAL while the data folder's disk was full)."""
MONGODB_OUT_OF_DISK_SPACE = 14031


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached, or cannot write for now: the
    server itself (a network error), the storage under FerretDB (it answers InternalError
    naming the lost connection to its PostgreSQL), or a full disk."""
    if isinstance(error, ConnectionFailure):
        return True
    if isinstance(error, OperationFailure) and error.code == MONGODB_OUT_OF_DISK_SPACE:
        return True
    if isinstance(error, OperationFailure) and error.code == FERRETDB_INTERNAL_ERROR:
        message = str(error).lower()
        return any(sign in message for sign in (*BACKEND_GONE, *BACKEND_SHORT))
    return False


def unavailable() -> JSONResponse:
    return error_response(503, "UNAVAILABLE", "the database is unavailable; try again shortly",
                          headers={"Retry-After": "5"})


class DatabaseOutage:
    """ASGI middleware: a request that fails on an unreachable database before it started
    answering (authentication, an export) gets 503 ``UNAVAILABLE``, not a plain-text 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracker = StartTracker(send)
        try:
            await self.app(scope, receive, tracker.send)
        except PyMongoError as error:
            if not unreachable(error):
                raise
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # PyMongo reports an operation cut short by cancellation (a request timeout)
                # as a network error: it is the cancellation, answered by whoever cancelled.
                raise asyncio.CancelledError from None
            if tracker.started:
                raise
            await unavailable()(scope, receive, send)
