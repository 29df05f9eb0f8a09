"""The database layer's own error, and how to tell an error that says the database is gone.

``unreachable`` is asked by the HTTP edge (``edge/middleware/outage.py``) and by the GraphQL
error mapping (``api/errors.py``) alike, so it lives here, next to the server it knows about.
"""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, OperationFailure

FERRETDB_INTERNAL_ERROR = 1
BACKEND_GONE = ("failed to connect", "connection refused", "broken pipe", "connection reset", "conn closed",
                "unexpected eof", "unexpected postmaster exit", "sqlstate 08", "sqlstate 57p")
"""What FerretDB's InternalError says when its PostgreSQL is gone (SQLSTATE class 08 is a
connection exception, 57P an operator intervention such as a shutdown)."""


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached: the server itself (a network
    error), or the storage under FerretDB (it answers InternalError naming the lost
    connection to its PostgreSQL)."""
    if isinstance(error, ConnectionFailure):
        return True
    if isinstance(error, OperationFailure) and error.code == FERRETDB_INTERNAL_ERROR:
        message = str(error).lower()
        return any(sign in message for sign in BACKEND_GONE)
    return False


class DatabaseUnavailable(RuntimeError):
    """No database server can be had; the message says what to do."""
